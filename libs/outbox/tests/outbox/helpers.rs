//! Shared test scaffolding: a fresh database per test, unique topics, a producer.

use std::time::Duration;

use comanda_outbox::Envelope;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;

/// A fresh database with the outbox migrations and a test `effects` table.
pub struct TestDb {
    pub url: String,
    pub pool: Pool<AsyncPgConnection>,
}

impl TestDb {
    pub async fn new() -> Self {
        comanda_kit::testing::init_test_logs();
        let url = comanda_kit::testing::fresh_database("outbox").await;
        comanda_kit::db::run_migrations(&url, vec![comanda_outbox::MIGRATIONS])
            .await
            .expect("migrations run");
        let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(url.clone());
        let pool = Pool::builder(manager)
            .max_size(4)
            .build()
            .expect("pool builds");
        let db = Self { url, pool };
        db.run_sql("CREATE TABLE effects (event_id UUID NOT NULL, note TEXT NOT NULL)")
            .await;
        db
    }

    pub async fn connect(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.url)
            .await
            .expect("connects")
    }

    pub async fn run_sql(&self, sql: &str) {
        let mut conn = self.connect().await;
        diesel::sql_query(sql)
            .execute(&mut conn)
            .await
            .expect("sql runs");
    }

    /// Turns this database read-only (or writable again) and ends its other sessions, so
    /// the pool reconnects under the new default, as after a failover to a standby.
    pub async fn set_read_only(&self, on: bool) {
        use diesel_async::SimpleAsyncConnection;
        let name = self
            .url
            .rsplit('/')
            .next()
            .expect("database name")
            .to_owned();
        let value = if on { "on" } else { "off" };
        let mut conn = self.connect().await;
        // This session itself starts read-only once the database is: lift it for the
        // ALTER (its own statement: a multi-statement string is one transaction, begun
        // read-only).
        for sql in [
            "SET default_transaction_read_only = off".to_owned(),
            format!("ALTER DATABASE \"{name}\" SET default_transaction_read_only = {value}"),
            format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            ),
        ] {
            conn.batch_execute(&sql).await.expect("read-only switched");
        }
    }

    pub async fn count(&self, sql: &str) -> i64 {
        use diesel::sql_types::BigInt;
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let mut conn = self.connect().await;
        diesel::sql_query(sql)
            .get_result::<Count>(&mut conn)
            .await
            .expect("count runs")
            .n
    }
}

pub fn brokers() -> String {
    comanda_kit::testing::kafka_brokers()
}

/// A topic name no other test uses.
pub fn unique_topic(purpose: &str) -> String {
    format!("test.{purpose}.{}", uuid::Uuid::new_v4().simple())
}

pub fn envelope(aggregate: &str, data: serde_json::Value) -> Envelope {
    Envelope::new("test.happened", 1, "tests", aggregate, data)
}

pub fn producer() -> FutureProducer {
    comanda_outbox::kafka::producer_config(&brokers())
        .create()
        .expect("producer")
}

/// Produces raw bytes and waits for the ack.
pub async fn produce(producer: &FutureProducer, topic: &str, key: &str, payload: &[u8]) {
    producer
        .send(
            FutureRecord::to(topic).key(key).payload(payload),
            Timeout::After(Duration::from_secs(10)),
        )
        .await
        .expect("broker acks");
}

/// Handles batches of `inbox` until `n` outcomes were collected (or 30 s pass).
pub async fn drain_batches(
    inbox: &comanda_outbox::Inbox,
    n: usize,
) -> Vec<comanda_outbox::Outcome> {
    let mut outcomes = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while outcomes.len() < n && tokio::time::Instant::now() < deadline {
        outcomes.extend(
            inbox
                .poll_batch(Duration::from_secs(1))
                .await
                .expect("polls"),
        );
    }
    outcomes
}
