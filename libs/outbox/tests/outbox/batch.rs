//! Messages already waiting are applied in one transaction, each deduped on its own,
//! in order; any failure in such a batch falls back to one message at a time.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use comanda_outbox::{Envelope, Handler, HandlerError, Inbox, Outcome};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::json;

use crate::helpers::{brokers, drain_batches, envelope, produce, producer, unique_topic, TestDb};

/// Appends `(n, the transaction's id)` to `applied` for every message it applies;
/// refuses the message whose `n` is `poison`, and fails once, transiently, on the
/// first sight of `flaky`.
struct Record {
    poison: Option<i64>,
    flaky: Option<i64>,
    flaked: AtomicBool,
    attempts: Arc<AtomicUsize>,
}

impl Record {
    fn new() -> Self {
        Self {
            poison: None,
            flaky: None,
            flaked: AtomicBool::new(false),
            attempts: Arc::default(),
        }
    }
}

#[async_trait]
impl Handler for Record {
    async fn handle(
        &self,
        event: &Envelope,
        conn: &mut AsyncPgConnection,
    ) -> Result<(), HandlerError> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        let n = event.data["n"].as_i64().unwrap_or(-1);
        diesel::sql_query(format!(
            "INSERT INTO applied (n, event_id) VALUES ({n}, '{}')",
            event.id
        ))
        .execute(conn)
        .await?;
        if Some(n) == self.poison {
            return Err(HandlerError::permanent("poison"));
        }
        if Some(n) == self.flaky && !self.flaked.swap(true, Ordering::SeqCst) {
            return Err(HandlerError::Transient(anyhow::anyhow!("flaky")));
        }
        Ok(())
    }
}

async fn database() -> TestDb {
    let db = TestDb::new().await;
    db.run_sql(
        "CREATE TABLE applied (seq BIGSERIAL PRIMARY KEY, n BIGINT NOT NULL, \
         event_id UUID NOT NULL, xact BIGINT NOT NULL DEFAULT txid_current())",
    )
    .await;
    db
}

/// Produces events `n = 0..count` on one key (one partition, so one order), the
/// envelope of `repeat` a second time right after itself; returns the events.
async fn produce_numbered(topic: &str, count: i64, repeat: Option<i64>) -> Vec<Envelope> {
    comanda_outbox::topics::ensure(&brokers(), &[topic])
        .await
        .expect("topic");
    let producer = producer();
    let mut events = Vec::new();
    for n in 0..count {
        let event = envelope("k", json!({ "n": n }));
        let bytes = serde_json::to_vec(&event).expect("json");
        produce(&producer, topic, "k", &bytes).await;
        if Some(n) == repeat {
            produce(&producer, topic, "k", &bytes).await;
        }
        events.push(event);
    }
    events
}

async fn inbox(db: &TestDb, topic: &str, handler: Record) -> Inbox {
    Inbox::builder(
        &format!("test-group-{}", uuid::Uuid::new_v4().simple()),
        &brokers(),
    )
    .handle(topic, handler)
    .first_retry(Duration::from_millis(20))
    .build(db.pool.clone())
    .await
    .expect("inbox builds")
}

/// `n` of every applied row, in the order applied.
async fn applied(db: &TestDb) -> Vec<i64> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = db.connect().await;
    diesel::sql_query("SELECT n FROM applied ORDER BY seq")
        .load::<Row>(&mut conn)
        .await
        .expect("reads applied")
        .into_iter()
        .map(|row| row.n)
        .collect()
}

#[tokio::test]
async fn waiting_messages_are_applied_in_few_transactions_in_order_and_each_deduped() {
    let db = database().await;
    let topic = unique_topic("batch");
    produce_numbered(&topic, 40, Some(7)).await;
    let inbox = inbox(&db, &topic, Record::new()).await;

    let outcomes = drain_batches(&inbox, 41).await;

    assert_eq!(outcomes.len(), 41);
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == Outcome::Duplicate)
            .count(),
        1,
        "the repeated envelope is a duplicate: {outcomes:?}"
    );
    assert_eq!(applied(&db).await, (0..40).collect::<Vec<_>>());
    let transactions = db
        .count("SELECT count(DISTINCT xact) AS n FROM applied")
        .await;
    assert!(
        transactions <= 10,
        "40 waiting messages took {transactions} transactions"
    );
    assert_eq!(
        db.count("SELECT count(*) AS n FROM processed_messages")
            .await,
        40
    );
}

#[tokio::test]
async fn a_poison_message_among_waiting_ones_is_dead_lettered_alone_and_the_rest_apply_once() {
    let db = database().await;
    let topic = unique_topic("batch-poison");
    let events = produce_numbered(&topic, 20, None).await;
    let handler = Record {
        poison: Some(9),
        ..Record::new()
    };
    let inbox = inbox(&db, &topic, handler).await;

    let outcomes = drain_batches(&inbox, 20).await;

    let mut expected = vec![Outcome::Processed; 20];
    expected[9] = Outcome::DeadLettered;
    assert_eq!(outcomes, expected);
    let wanted: Vec<i64> = (0..20).filter(|n| *n != 9).collect();
    assert_eq!(applied(&db).await, wanted, "each applied once, in order");
    let poison = events[9].id;
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) AS n FROM processed_messages WHERE event_id = '{poison}'"
        ))
        .await,
        0,
        "nothing of the poison message is kept"
    );
}

#[tokio::test]
async fn a_transient_failure_inside_a_batch_is_retried_and_every_message_applies_once() {
    let db = database().await;
    let topic = unique_topic("batch-flaky");
    produce_numbered(&topic, 20, None).await;
    let handler = Record {
        flaky: Some(5),
        ..Record::new()
    };
    let attempts = Arc::clone(&handler.attempts);
    let inbox = inbox(&db, &topic, handler).await;

    let outcomes = drain_batches(&inbox, 20).await;

    assert_eq!(outcomes, vec![Outcome::Processed; 20]);
    assert_eq!(applied(&db).await, (0..20).collect::<Vec<_>>());
    assert!(
        AtomicUsize::load(&attempts, Ordering::SeqCst) > 20,
        "the failed batch was really tried first"
    );
}

#[tokio::test]
async fn a_running_inbox_keeps_each_key_in_order_across_batches() {
    let db = database().await;
    let topic = unique_topic("batch-run");
    comanda_outbox::topics::ensure(&brokers(), &[&topic])
        .await
        .expect("topic");
    let inbox = Arc::new(inbox(&db, &topic, Record::new()).await);
    let shutdown = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn({
        let (inbox, stop) = (Arc::clone(&inbox), shutdown.clone());
        async move { inbox.run(stop.cancelled_owned()).await }
    });
    // Four keys, interleaved; each key's events carry increasing numbers.
    let producer = producer();
    for n in 0..200_i64 {
        let key = format!("key-{}", n % 4);
        let event = envelope(&key, json!({ "n": n }));
        produce(
            &producer,
            &topic,
            &key,
            &serde_json::to_vec(&event).expect("json"),
        )
        .await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while db.count("SELECT count(*) AS n FROM applied").await < 200
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shutdown.cancel();
    running.await.expect("inbox stops");

    let order = applied(&db).await;
    assert_eq!(order.len(), 200);
    assert_eq!(order.iter().collect::<HashSet<_>>().len(), 200, "each once");
    for key in 0..4 {
        let of_key: Vec<i64> = order.iter().copied().filter(|n| n % 4 == key).collect();
        let mut sorted = of_key.clone();
        sorted.sort_unstable();
        assert_eq!(of_key, sorted, "key-{key} applied out of order");
    }
}
