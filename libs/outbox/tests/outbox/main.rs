//! Integration tests of the outbox library against real Postgres and a real
//! Kafka-protocol broker (`DATABASE_ADMIN_URL`, `KAFKA_BROKERS`; `cargo xtask test`
//! provides both).

mod batch;
mod dead_letters;
mod deadline;
mod deadline_standing;
mod fuzz_dead_letters;
mod fuzz_envelope;
mod fuzz_inbox;
mod helpers;
mod inbox;
mod lanes;
mod sick_database;
mod stall;
mod topics;
mod writer;
