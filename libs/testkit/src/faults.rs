//! Faults a test inflicts on real parts: a database that turns read-only, as during a
//! failover or when an operator fences it; and a look at what a fault cost (the
//! dead-letter topic's size).

use std::str::FromStr;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;

use crate::TestEnv;

/// Turns the database of `url` read-only (`on`) or writable again, and ends every
/// session on it so the pools reconnect under the new default — what a failover to
/// a standby, or a full disk that an operator fenced, looks like to a service.
pub async fn set_read_only(url: &str, on: bool) {
    let config = tokio_postgres::Config::from_str(url).expect("database URL");
    let name = config
        .get_dbname()
        .expect("URL names a database")
        .to_owned();
    let admin = comanda_kit::db::with_database_name(url, "postgres").expect("admin URL");
    let (client, connection) = tokio_postgres::Config::from_str(&admin)
        .expect("admin URL")
        .connect(tokio_postgres::NoTls)
        .await
        .expect("connect as admin");
    tokio::spawn(connection);
    let value = if on { "on" } else { "off" };
    client
        .batch_execute(&format!(
            "ALTER DATABASE \"{name}\" SET default_transaction_read_only = {value}"
        ))
        .await
        .expect("ALTER DATABASE");
    client
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&name],
        )
        .await
        .expect("end the database's sessions");
}

impl TestEnv {
    /// How many messages this test's dead-letter topic holds (its high watermarks).
    pub async fn dead_letters(&self) -> i64 {
        let brokers = self.brokers.clone();
        let topic = self.topic(comanda_outbox::topics::DLQ);
        tokio::task::spawn_blocking(move || count_messages(&brokers, &topic))
            .await
            .expect("count task")
    }
}

/// Messages in `topic` (sum of its partitions' high watermarks; nothing is deleted
/// during a test).
pub fn count_messages(brokers: &str, topic: &str) -> i64 {
    let timeout = Duration::from_secs(10);
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("metadata client");
    let metadata = consumer
        .fetch_metadata(Some(topic), timeout)
        .expect("topic metadata");
    let mut total = 0;
    for found in metadata.topics() {
        for partition in found.partitions() {
            let (_, high) = consumer
                .fetch_watermarks(topic, partition.id(), timeout)
                .expect("watermarks");
            total += high;
        }
    }
    total
}
