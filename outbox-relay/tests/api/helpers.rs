//! Test scaffolding: source databases, relay processes, private brokers, topic readers.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::ClientConfig;
use tokio_postgres::{Client, NoTls};

/// A fresh service database carrying the outbox tables.
pub struct SourceDb {
    pub url: String,
    pub client: Client,
}

impl SourceDb {
    pub async fn new() -> Self {
        comanda_kit::testing::init_test_logs();
        let url = comanda_kit::testing::fresh_database("relay").await;
        comanda_kit::db::run_migrations(&url, vec![comanda_outbox::MIGRATIONS])
            .await
            .expect("migrations run");
        let (client, connection) = tokio_postgres::connect(&url, NoTls)
            .await
            .expect("connects");
        tokio::spawn(connection);
        Self { url, client }
    }

    /// Inserts `n` events to `topic`, spread round-robin over `keys` keys; each
    /// payload is a valid envelope whose `data.seq` counts up per insert.
    pub async fn insert_events(&self, topic: &str, n: i64, keys: i64) {
        self.client
            .execute(
                "INSERT INTO outbox (event_id, topic, kafka_key, event_type, correlation_id, traceparent, payload) \
                 SELECT e.id, $1, e.key, 'test.happened', e.corr, \
                        '00-' || replace(e.corr::text, '-', '') || '-0000000000000001-01', \
                        jsonb_build_object('id', e.id, 'type', 'test.happened', 'version', 1, \
                          'source', 'tests', 'aggregate_id', e.key, 'correlation_id', e.corr, \
                          'causation_id', NULL, 'occurred_at', now(), 'data', jsonb_build_object('seq', e.seq)) \
                 FROM (SELECT gen_random_uuid() AS id, gen_random_uuid() AS corr, \
                              'key-' || (s % $3) AS key, s AS seq \
                       FROM generate_series(1, $2::bigint) AS s) AS e ORDER BY e.seq",
                &[&topic, &n, &keys],
            )
            .await
            .expect("events inserted");
    }

    pub async fn count(&self, sql: &str) -> i64 {
        self.client
            .query_one(sql, &[])
            .await
            .expect("count runs")
            .get(0)
    }

    pub async fn published(&self) -> i64 {
        self.count("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL")
            .await
    }

    pub async fn unpublished(&self) -> i64 {
        self.count("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            .await
    }

    /// The `application_name` of the session holding the relay's leader lock.
    pub async fn leader(&self) -> Option<String> {
        self.client
            .query_opt(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid) \
                 WHERE l.locktype = 'advisory' AND l.granted AND l.database = \
                 (SELECT oid FROM pg_database WHERE datname = current_database())",
                &[],
            )
            .await
            .expect("query runs")
            .map(|row| row.get(0))
    }
}

pub fn shared_brokers() -> String {
    comanda_kit::testing::kafka_brokers()
}

pub fn unique_topic(purpose: &str) -> String {
    format!("test.{purpose}.{}", uuid::Uuid::new_v4().simple())
}

pub async fn create_topic(brokers: &str, topic: &str) {
    comanda_outbox::topics::ensure(brokers, &[topic])
        .await
        .expect("topic created");
}

/// An `outbox-relay` process. Killed (SIGKILL) when dropped.
pub struct RelayProcess {
    child: Child,
}

impl RelayProcess {
    pub fn spawn(source_url: &str, brokers: &str, instance: &str, extra: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_outbox-relay"));
        command
            .env("COMANDA__ENV", "test")
            .env("COMANDA__HTTP__PORT", "0")
            .env("COMANDA__KAFKA__BROKERS", brokers)
            .env("COMANDA__SOURCES__TEST__URL", source_url)
            .env("COMANDA__RELAY__INSTANCE", instance)
            .env("COMANDA__RELAY__STANDBY_POLL_MS", "200")
            .env("RUST_LOG", "info,librdkafka=warn")
            .stdin(Stdio::null());
        for (name, value) in extra {
            command.env(name, value);
        }
        if std::env::var_os("TEST_LOG").is_none() {
            command.stdout(Stdio::null()).stderr(Stdio::null());
        }
        let child = command.spawn().expect("relay starts");
        Self { child }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

pub use comanda_testkit::broker::PrivateBroker;

/// A record as read back from a topic.
#[derive(Debug, Clone)]
pub struct Record {
    pub key: String,
    pub payload: serde_json::Value,
    pub headers: HashMap<String, String>,
    pub partition: i32,
}

impl Record {
    pub fn seq(&self) -> i64 {
        self.payload["data"]["seq"].as_i64().expect("seq")
    }

    pub fn event_id(&self) -> String {
        self.payload["id"].as_str().expect("id").to_owned()
    }
}

/// Reads `topic` from the beginning until `at_least` records arrived and no new
/// one came for a moment, or `within` passed.
pub async fn read_topic(
    brokers: &str,
    topic: &str,
    at_least: usize,
    within: Duration,
) -> Vec<Record> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set(
            "group.id",
            format!("reader-{}", uuid::Uuid::new_v4().simple()),
        )
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    consumer.subscribe(&[topic]).expect("subscribes");
    let mut records = Vec::new();
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        let quiet = if records.len() >= at_least { 500 } else { 2000 };
        match tokio::time::timeout(Duration::from_millis(quiet), consumer.recv()).await {
            Ok(Ok(message)) => {
                let headers = message
                    .headers()
                    .map(|hs| {
                        use rdkafka::message::Headers;
                        hs.iter()
                            .map(|h| {
                                let value =
                                    h.value.map(|v| String::from_utf8_lossy(v).into_owned());
                                (h.key.to_owned(), value.unwrap_or_default())
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                records.push(Record {
                    key: String::from_utf8_lossy(message.key().unwrap_or_default()).into_owned(),
                    payload: serde_json::from_slice(message.payload().unwrap_or_default())
                        .expect("payload is JSON"),
                    headers,
                    partition: message.partition(),
                });
            }
            Ok(Err(error)) => panic!("reading {topic}: {error}"),
            Err(_quiet) if records.len() >= at_least => break,
            Err(_quiet) => {}
        }
    }
    records
}
