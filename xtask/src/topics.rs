//! The Kafka topics the broker must have before anything runs.
//!
//! Mirrors `comanda_outbox::topics::ALL`: kept separate only so xtask does not have to build
//! librdkafka, and a test in `libs/outbox/src/topics.rs` fails when the two lists differ.
//! Every Comanda process also ensures its own topics on start, so this list is a convenience
//! for tests and tools.

/// Partitions per topic. Kafka keys are aggregate ids, so order holds per aggregate.
pub const PARTITIONS: u32 = 3;

/// Every topic, in no particular order.
pub const ALL: &[&str] = &[
    "creating.user",
    "creating.user.response",
    "order.created.pending",
    "order.cancelled",
    "inventory.stock.reserved",
    "inventory.stock.failed",
    "inventory.stock.released",
    "product.upserted",
    "product.deleted",
    "failed.send.event.dlq",
];
