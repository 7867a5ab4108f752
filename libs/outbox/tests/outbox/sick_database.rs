//! A message that may succeed later is never dead-lettered: a failing handler or a sick
//! database is waited out, for as long as it takes, and reported while it lasts.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use comanda_kit::stalls::Stalls;
use comanda_outbox::{Envelope, Handler, HandlerError, Inbox, Outcome};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::helpers::{brokers, envelope, produce, producer, unique_topic, TestDb};

/// Records one row in `effects`, then fails transiently while `failures_left` > 0.
struct FlakyEffect {
    attempts: Arc<AtomicUsize>,
    failures_left: Arc<AtomicUsize>,
}

#[async_trait]
impl Handler for FlakyEffect {
    async fn handle(
        &self,
        event: &Envelope,
        conn: &mut AsyncPgConnection,
    ) -> Result<(), HandlerError> {
        AtomicUsize::fetch_add(&self.attempts, 1, Ordering::SeqCst);
        diesel::sql_query(format!(
            "INSERT INTO effects (event_id, note) VALUES ('{}', 'applied')",
            event.id
        ))
        .execute(conn)
        .await?;
        let left = AtomicUsize::load(&self.failures_left, Ordering::SeqCst);
        if left > 0 {
            AtomicUsize::store(&self.failures_left, left - 1, Ordering::SeqCst);
            return Err(HandlerError::Transient(anyhow::anyhow!("downstream busy")));
        }
        Ok(())
    }
}

fn flaky(failures: usize) -> (FlakyEffect, Arc<AtomicUsize>) {
    let attempts = Arc::new(AtomicUsize::new(0));
    let handler = FlakyEffect {
        attempts: Arc::clone(&attempts),
        failures_left: Arc::new(AtomicUsize::new(failures)),
    };
    (handler, attempts)
}

/// Messages in `topic` (its high watermarks).
async fn messages_in(topic: &str) -> i64 {
    let topic = topic.to_owned();
    tokio::task::spawn_blocking(move || {
        let timeout = Duration::from_secs(10);
        let client: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", brokers())
            .create()
            .expect("client");
        let metadata = client
            .fetch_metadata(Some(&topic), timeout)
            .expect("metadata");
        let mut total = 0;
        for found in metadata.topics() {
            for partition in found.partitions() {
                total += client
                    .fetch_watermarks(&topic, partition.id(), timeout)
                    .expect("watermarks")
                    .1;
            }
        }
        total
    })
    .await
    .expect("count task")
}

#[tokio::test]
async fn a_handler_failing_transiently_many_times_is_applied_once_and_never_dead_lettered() {
    let db = TestDb::new().await;
    let topic = unique_topic("flaky");
    let dlq = unique_topic("flaky-dlq");
    let (handler, attempts) = flaky(8);
    let inbox = Inbox::builder(&format!("test-{}", uuid::Uuid::new_v4()), &brokers())
        .handle(&topic, handler)
        .dlq_topic(&dlq)
        .first_retry(Duration::from_millis(10))
        .build(db.pool.clone())
        .await
        .expect("inbox builds");
    let event = envelope("agg", json!({}));
    produce(
        &producer(),
        &topic,
        "agg",
        &serde_json::to_vec(&event).expect("json"),
    )
    .await;

    let mut outcome = None;
    for _ in 0..60 {
        outcome = inbox
            .poll_once(Duration::from_secs(1))
            .await
            .expect("polls");
        if outcome.is_some() {
            break;
        }
    }

    assert_eq!(outcome, Some(Outcome::Processed));
    assert_eq!(AtomicUsize::load(&attempts, Ordering::SeqCst), 9);
    // The failed attempts' effects rolled back with them.
    assert_eq!(db.count("SELECT count(*) AS n FROM effects").await, 1);
    assert_eq!(messages_in(&dlq).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_database_is_waited_out_reported_as_a_stall_and_never_dead_lettered() {
    let db = TestDb::new().await;
    let topic = unique_topic("readonly");
    let dlq = unique_topic("readonly-dlq");
    let (handler, _) = flaky(0);
    let stalls = Stalls::new();
    let group = format!("test-{}", uuid::Uuid::new_v4().simple());
    let inbox = Inbox::builder(&group, &brokers())
        .handle(&topic, handler)
        .dlq_topic(&dlq)
        .stalls(stalls.clone())
        .first_retry(Duration::from_millis(50))
        .max_retry_delay(Duration::from_millis(500))
        .build(db.pool.clone())
        .await
        .expect("inbox builds");
    db.set_read_only(true).await;
    let token = CancellationToken::new();
    let running = tokio::spawn({
        let token = token.clone();
        async move { inbox.run(token.cancelled_owned()).await }
    });
    let event = envelope("agg", json!({}));
    produce(
        &producer(),
        &topic,
        "agg",
        &serde_json::to_vec(&event).expect("json"),
    )
    .await;

    // Far longer than any retry budget: the message waits, the stall shows.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let name = format!("inbox:{group}");
    let report = stalls.report();
    assert!(
        stalls.is_stalled(&name),
        "the retry is on the stall board: {report:?}"
    );
    assert!(
        report[0].1.contains("read-only"),
        "the stall names the cause: {report:?}"
    );
    assert_eq!(db.count("SELECT count(*) AS n FROM effects").await, 0);
    assert_eq!(messages_in(&dlq).await, 0, "nothing was dead-lettered");

    db.set_read_only(false).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while db.count("SELECT count(*) AS n FROM effects").await == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not applied within 30 s of the database becoming writable"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    token.cancel();
    running.await.expect("the inbox stops");
    assert_eq!(
        db.count("SELECT count(*) AS n FROM processed_messages")
            .await,
        1
    );
    assert!(!stalls.is_stalled(&name), "the stall is over");
    assert_eq!(messages_in(&dlq).await, 0, "nothing was dead-lettered");
}
