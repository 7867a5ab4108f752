//! An inbox with lanes applies the partitions it received side by side, each key still
//! in order and each message once; a poison message stays in its own lane.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use comanda_outbox::{Envelope, Handler, HandlerError, Inbox, Outcome};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use rdkafka::producer::FutureRecord;
use rdkafka::util::Timeout;
use serde_json::json;

use crate::helpers::{brokers, drain_batches, envelope, producer, unique_topic, TestDb};

/// Records `(key, n)` of every message it applies, after holding it `hold` (to let
/// applications overlap if they can); counts how many it held at once; refuses `n =
/// poison`.
struct Overlap {
    hold: Duration,
    poison: Option<i64>,
    in_flight: AtomicUsize,
    most_at_once: Arc<AtomicUsize>,
}

impl Overlap {
    fn new(hold: Duration, poison: Option<i64>) -> (Self, Arc<AtomicUsize>) {
        let most_at_once = Arc::new(AtomicUsize::new(0));
        let handler = Self {
            hold,
            poison,
            in_flight: AtomicUsize::new(0),
            most_at_once: Arc::clone(&most_at_once),
        };
        (handler, most_at_once)
    }
}

#[async_trait]
impl Handler for Overlap {
    async fn handle(
        &self,
        event: &Envelope,
        conn: &mut AsyncPgConnection,
    ) -> Result<(), HandlerError> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_at_once.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(self.hold).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        let n = event.data["n"].as_i64().unwrap_or(-1);
        diesel::sql_query(format!(
            "INSERT INTO applied (key, n) VALUES ('{}', {n})",
            event.aggregate_id
        ))
        .execute(conn)
        .await?;
        if Some(n) == self.poison {
            return Err(HandlerError::permanent("poison"));
        }
        Ok(())
    }
}

async fn database() -> TestDb {
    let db = TestDb::new().await;
    db.run_sql(
        "CREATE TABLE applied (seq BIGSERIAL PRIMARY KEY, key TEXT NOT NULL, n BIGINT NOT NULL)",
    )
    .await;
    db
}

/// `count` events `n = 0..count` spread over `keys` keys, key `n % keys`, each key's
/// events on partition `key % 3` (explicitly, so every partition has some).
async fn produce_spread(topic: &str, count: i64, keys: i64) {
    comanda_outbox::topics::ensure(&brokers(), &[topic])
        .await
        .expect("topic");
    let producer = producer();
    for n in 0..count {
        let key = n % keys;
        let name = format!("key-{key}");
        let bytes = serde_json::to_vec(&envelope(&name, json!({ "n": n }))).expect("json");
        producer
            .send(
                FutureRecord::to(topic)
                    .key(&name)
                    .payload(&bytes)
                    .partition((key % 3) as i32),
                Timeout::After(Duration::from_secs(10)),
            )
            .await
            .expect("broker acks");
    }
}

async fn inbox(db: &TestDb, topic: &str, handler: Overlap, lanes: usize) -> Inbox {
    Inbox::builder(
        &format!("test-group-{}", uuid::Uuid::new_v4().simple()),
        &brokers(),
    )
    .handle(topic, handler)
    .lanes(lanes)
    .first_retry(Duration::from_millis(20))
    .build(db.pool.clone())
    .await
    .expect("inbox builds")
}

/// `(key, n)` of every applied row, in the order applied.
async fn applied(db: &TestDb) -> Vec<(String, i64)> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        key: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = db.connect().await;
    diesel::sql_query("SELECT key, n FROM applied ORDER BY seq")
        .load::<Row>(&mut conn)
        .await
        .expect("reads applied")
        .into_iter()
        .map(|row| (row.key, row.n))
        .collect()
}

/// Each key's `n`s are increasing, and every `n` of `0..count` is there once.
fn assert_each_once_and_in_order_per_key(rows: &[(String, i64)], count: i64) {
    let all: HashSet<i64> = rows.iter().map(|(_, n)| *n).collect();
    assert_eq!(rows.len() as i64, count, "{rows:?}");
    assert_eq!(all, (0..count).collect(), "each once");
    let keys: HashSet<&String> = rows.iter().map(|(key, _)| key).collect();
    for key in keys {
        let of_key: Vec<i64> = rows.iter().filter(|(k, _)| k == key).map(|r| r.1).collect();
        let mut sorted = of_key.clone();
        sorted.sort_unstable();
        assert_eq!(of_key, sorted, "{key} applied out of order");
    }
}

#[tokio::test]
async fn partitions_received_together_are_applied_side_by_side_each_key_in_order() {
    let db = database().await;
    let topic = unique_topic("lanes");
    produce_spread(&topic, 30, 6).await;
    let (handler, most_at_once) = Overlap::new(Duration::from_millis(50), None);
    let inbox = inbox(&db, &topic, handler, 3).await;

    let outcomes = drain_batches(&inbox, 30).await;

    assert_eq!(outcomes, vec![Outcome::Processed; 30]);
    assert_each_once_and_in_order_per_key(&applied(&db).await, 30);
    assert!(
        AtomicUsize::load(&most_at_once, Ordering::SeqCst) >= 2,
        "messages of different partitions were applied one after the other"
    );
}

#[tokio::test]
async fn with_one_lane_messages_are_applied_one_after_the_other() {
    let db = database().await;
    let topic = unique_topic("one-lane");
    produce_spread(&topic, 12, 6).await;
    let (handler, most_at_once) = Overlap::new(Duration::from_millis(20), None);
    let inbox = inbox(&db, &topic, handler, 1).await;

    drain_batches(&inbox, 12).await;

    assert_each_once_and_in_order_per_key(&applied(&db).await, 12);
    assert_eq!(AtomicUsize::load(&most_at_once, Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_poison_message_is_dead_lettered_alone_and_the_other_lanes_apply_once() {
    let db = database().await;
    let topic = unique_topic("lanes-poison");
    produce_spread(&topic, 30, 6).await;
    // n = 7 is key-1, partition 1.
    let (handler, _) = Overlap::new(Duration::ZERO, Some(7));
    let inbox = inbox(&db, &topic, handler, 3).await;

    let outcomes = drain_batches(&inbox, 30).await;

    assert_eq!(outcomes.len(), 30);
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == Outcome::DeadLettered)
            .count(),
        1
    );
    let rows = applied(&db).await;
    let applied_ns: HashSet<i64> = rows.iter().map(|(_, n)| *n).collect();
    assert_eq!(rows.len(), 29, "{rows:?}");
    assert_eq!(applied_ns, (0..30).filter(|n| *n != 7).collect());
}
