//! The topic catalogue and idempotent topic creation.
//!
//! The broker used for local runs (tansu) does not auto-create topics, and its
//! memory storage forgets them on restart; so every producer and consumer calls
//! [`ensure`] on start, and the relay calls it again when a topic turns out missing.

use std::time::Duration;

use anyhow::Context;
use comanda_kit::settings::KafkaSecurity;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientConfig;

/// Registration request: auth-service → user-service.
pub const CREATING_USER: &str = "creating.user";
/// Registration reply: user-service → auth-service.
pub const CREATING_USER_RESPONSE: &str = "creating.user.response";
/// A new order waits for stock: order-service → product-service.
pub const ORDER_CREATED_PENDING: &str = "order.created.pending";
/// An order was cancelled (compensation): order-service → product-service.
pub const ORDER_CANCELLED: &str = "order.cancelled";
/// Stock reserved for an order: product-service → order-service.
pub const STOCK_RESERVED: &str = "inventory.stock.reserved";
/// Stock could not be reserved: product-service → order-service.
pub const STOCK_FAILED: &str = "inventory.stock.failed";
/// A reservation was released: product-service → order-service.
pub const STOCK_RELEASED: &str = "inventory.stock.released";
/// Catalogue change (read model feed): product-service → order-service.
pub const PRODUCT_UPSERTED: &str = "product.upserted";
/// Catalogue removal: product-service → order-service.
pub const PRODUCT_DELETED: &str = "product.deleted";
/// An order waits for payment: order-service → payment-service.
pub const PAYMENT_REQUESTED: &str = "payment.requested";
/// The provider's checkout session exists: payment-service → order-service.
pub const PAYMENT_CREATED: &str = "payment.created";
/// The charge was captured: payment-service → order-service.
pub const PAYMENT_SUCCEEDED: &str = "payment.succeeded";
/// The charge failed: payment-service → order-service.
pub const PAYMENT_FAILED: &str = "payment.failed";
/// A captured charge was refunded: payment-service → order-service.
pub const PAYMENT_REFUNDED: &str = "payment.refunded";
/// Messages a consumer could not decode or kept failing on.
pub const DLQ: &str = "failed.send.event.dlq";

/// Every topic of the system.
pub const ALL: &[&str] = &[
    CREATING_USER,
    CREATING_USER_RESPONSE,
    ORDER_CREATED_PENDING,
    ORDER_CANCELLED,
    STOCK_RESERVED,
    STOCK_FAILED,
    STOCK_RELEASED,
    PRODUCT_UPSERTED,
    PRODUCT_DELETED,
    PAYMENT_REQUESTED,
    PAYMENT_CREATED,
    PAYMENT_SUCCEEDED,
    PAYMENT_FAILED,
    PAYMENT_REFUNDED,
    DLQ,
];

/// Partitions per topic: enough to show per-key ordering and group rebalancing.
pub const PARTITIONS: i32 = 3;

/// Creates every catalogued topic under `prefix` (empty in deployments; tests use
/// a unique prefix so they never see each other's events).
pub async fn ensure_all(brokers: &str, prefix: &str) -> anyhow::Result<()> {
    let names: Vec<String> = ALL.iter().map(|t| format!("{prefix}{t}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    ensure(brokers, &names).await
}

/// How durable the topics a process creates are: how many brokers hold each partition,
/// and how many of them must have a record before an `acks=all` producer (the relay) is
/// told it is written.
///
/// The default, 1 and 1, is for a single broker (the local tansu, compose's one Kafka
/// node): a record then lives on one disk (tansu's memory storage: in one process) and is
/// lost with it; the saga deadlines send a lost request again, so an order still ends
/// final. A production cluster wants 3 and 2: a record survives one broker's loss, and a
/// write is refused rather than acked by a lone replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Durability {
    /// Replicas per partition (`replication.factor`).
    pub replication_factor: i32,
    /// In-sync replicas needed to ack an `acks=all` write (`min.insync.replicas`).
    pub min_insync_replicas: i32,
}

impl Default for Durability {
    fn default() -> Self {
        Self {
            replication_factor: 1,
            min_insync_replicas: 1,
        }
    }
}

impl From<&comanda_kit::settings::KafkaSettings> for Durability {
    fn from(kafka: &comanda_kit::settings::KafkaSettings) -> Self {
        Self {
            replication_factor: kafka.replication_factor,
            min_insync_replicas: kafka.min_insync_replicas,
        }
    }
}

/// Creates the `topics` that do not exist yet, for a single broker
/// ([`Durability::default`]); existing ones are left alone.
pub async fn ensure(brokers: &str, topics: &[&str]) -> anyhow::Result<()> {
    ensure_durable(brokers, topics, Durability::default()).await
}

/// Creates the `topics` that do not exist yet with `durability`; existing ones are left
/// alone (a topic's replication is changed by an operator, not by a service start).
pub async fn ensure_durable(
    brokers: &str,
    topics: &[&str],
    durability: Durability,
) -> anyhow::Result<()> {
    ensure_secured(brokers, &KafkaSecurity::default(), topics, durability).await
}

/// [`ensure_durable`], signing in with `security`.
pub async fn ensure_secured(
    brokers: &str,
    security: &KafkaSecurity,
    topics: &[&str],
    durability: Durability,
) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = security
        .apply(ClientConfig::new().set("bootstrap.servers", brokers))
        .create()
        .context("creating the Kafka admin client")?;
    let min_insync = durability.min_insync_replicas.to_string();
    let new_topics: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|t| {
            NewTopic::new(
                t,
                PARTITIONS,
                TopicReplication::Fixed(durability.replication_factor),
            )
            .set("min.insync.replicas", &min_insync)
        })
        .collect();
    let options = AdminOptions::new()
        .operation_timeout(Some(Duration::from_secs(10)))
        .request_timeout(Some(Duration::from_secs(10)));
    let results = admin
        .create_topics(&new_topics, &options)
        .await
        .context("creating topics")?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => anyhow::bail!("creating topic {topic}: {code}"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::ALL;

    /// The event catalogue documents every topic of the system.
    #[test]
    fn the_event_catalogue_documents_every_topic() {
        let catalogue = include_str!("../../../docs/events.md");
        for topic in ALL {
            assert!(
                catalogue.contains(&format!("| `{topic}` |")),
                "docs/events.md has no row for {topic}"
            );
        }
    }
}
