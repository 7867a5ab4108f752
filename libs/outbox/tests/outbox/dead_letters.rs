//! Reading and replaying the dead-letter topic: a message dead-lettered by a
//! failing handler is listed, replayed once its handler is fixed, and applied once
//! however often it is replayed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use comanda_outbox::dead_letters::{self, DeadLetter, Ledger, Selection};
use comanda_outbox::kafka::{HEADER_ID, HEADER_TYPE};
use comanda_outbox::{Envelope, Handler, HandlerError, Inbox, Outcome};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::FutureRecord;
use rdkafka::util::Timeout;
use rdkafka::ClientConfig;
use serde_json::json;

use crate::helpers::{brokers, producer, unique_topic, TestDb};

/// Records its effect, then fails permanently while `broken` is set (rolling the
/// effect back): a handler with a bug that is later fixed.
struct BrokenUntilFixed {
    broken: Arc<AtomicBool>,
}

#[async_trait]
impl Handler for BrokenUntilFixed {
    async fn handle(
        &self,
        event: &Envelope,
        conn: &mut AsyncPgConnection,
    ) -> Result<(), HandlerError> {
        diesel::sql_query(format!(
            "INSERT INTO effects (event_id, note) VALUES ('{}', '{}')",
            event.id, event.event_type
        ))
        .execute(conn)
        .await?;
        if AtomicBool::load(&self.broken, Ordering::SeqCst) {
            return Err(HandlerError::permanent(format!(
                "no rule for {}",
                event.event_type
            )));
        }
        Ok(())
    }
}

/// A source topic, its own DLQ topic and an inbox whose handler is broken until
/// `fix()`.
struct Setup {
    db: TestDb,
    topic: String,
    dlq: String,
    group: String,
    inbox: Inbox,
    broken: Arc<AtomicBool>,
}

impl Setup {
    async fn new() -> Self {
        let db = TestDb::new().await;
        let topic = unique_topic("dl-source");
        let dlq = unique_topic("dl-dlq");
        let group = format!("test-group-{}", uuid::Uuid::new_v4().simple());
        let broken = Arc::new(AtomicBool::new(true));
        let handler = BrokenUntilFixed {
            broken: Arc::clone(&broken),
        };
        let inbox = Inbox::builder(&group, &brokers())
            .handle(&topic, handler)
            .dlq_topic(&dlq)
            .build(db.pool.clone())
            .await
            .expect("inbox builds");
        Self {
            db,
            topic,
            dlq,
            group,
            inbox,
            broken,
        }
    }

    fn fix(&self) {
        self.broken.store(false, Ordering::SeqCst);
    }

    /// Publishes `event` as the relay does: key = aggregate id, the four headers.
    async fn publish(&self, event: &Envelope) {
        let id = event.id.to_string();
        let headers = OwnedHeaders::new()
            .insert(Header {
                key: HEADER_ID,
                value: Some(id.as_str()),
            })
            .insert(Header {
                key: HEADER_TYPE,
                value: Some(event.event_type.as_str()),
            })
            .insert(Header {
                key: "traceparent",
                value: Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
            });
        let payload = serde_json::to_vec(event).expect("json");
        producer()
            .send(
                FutureRecord::to(&self.topic)
                    .key(&event.aggregate_id)
                    .payload(&payload)
                    .headers(headers),
                Timeout::After(Duration::from_secs(10)),
            )
            .await
            .expect("broker acks");
    }

    /// Polls until `n` outcomes were collected (or 30 s pass).
    async fn drain(&self, n: usize) -> Vec<Outcome> {
        let mut outcomes = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while outcomes.len() < n && tokio::time::Instant::now() < deadline {
            if let Some(outcome) = self
                .inbox
                .poll_once(Duration::from_secs(1))
                .await
                .expect("polls")
            {
                outcomes.push(outcome);
            }
        }
        outcomes
    }

    async fn ledger(&self) -> Ledger {
        dead_letters::read(&brokers(), &self.dlq)
            .await
            .expect("the DLQ reads")
    }

    async fn replay(&self, selection: Selection, force: bool) -> Vec<String> {
        let ledger = self.ledger().await;
        let entries = dead_letters::select(&ledger, &selection, force).expect("selects");
        dead_letters::replay(&brokers(), &self.dlq, &entries)
            .await
            .expect("replays")
            .iter()
            .map(|r| r.id.to_string())
            .collect()
    }

    /// Effects of any event (each test has its own database).
    async fn effects(&self) -> i64 {
        self.db.count("SELECT count(*) AS n FROM effects").await
    }

    async fn effects_of(&self, event: &Envelope) -> i64 {
        self.db
            .count(&format!(
                "SELECT count(*) AS n FROM effects WHERE event_id = '{}'",
                event.id
            ))
            .await
    }
}

fn event(event_type: &str, aggregate: &str) -> Envelope {
    Envelope::new(event_type, 1, "tests", aggregate, json!({"n": 1}))
}

fn pending(ledger: &Ledger) -> Vec<&DeadLetter> {
    ledger.pending().collect()
}

#[tokio::test]
async fn a_dead_lettered_message_replayed_after_its_handler_is_fixed_has_one_effect_even_when_replayed_twice(
) {
    let setup = Setup::new().await;
    let order = event("test.order.placed", "order-1");
    setup.publish(&order).await;
    assert_eq!(setup.drain(1).await, vec![Outcome::DeadLettered]);
    assert_eq!(setup.effects().await, 0, "the failed attempt rolled back");
    let ledger = setup.ledger().await;
    let [entry] = pending(&ledger)[..] else {
        panic!("expected one pending entry, got {:?}", pending(&ledger));
    };
    let id = entry.id;

    setup.fix();
    let replayed = setup.replay(Selection::One(id), false).await;
    assert_eq!(replayed, vec![id.to_string()]);
    assert_eq!(setup.drain(1).await, vec![Outcome::Processed]);
    assert_eq!(setup.effects().await, 1);

    // A second, deliberate replay of the same entry: same event id, so dedupe holds.
    let again = setup.replay(Selection::One(id), true).await;
    assert_eq!(again, vec![id.to_string()]);
    assert_eq!(setup.drain(1).await, vec![Outcome::Duplicate]);
    assert_eq!(setup.effects().await, 1);
    assert_eq!(
        setup
            .db
            .count("SELECT count(*) AS n FROM processed_messages")
            .await,
        1
    );
    assert_eq!(setup.ledger().await.pending_count(), 0);
}

#[tokio::test]
async fn the_dlq_list_names_type_source_consumer_error_age_and_aggregate_of_each_entry() {
    let setup = Setup::new().await;
    let order = event("test.order.placed", "order-42");
    setup.publish(&order).await;
    assert_eq!(setup.drain(1).await, vec![Outcome::DeadLettered]);

    let ledger = setup.ledger().await;
    let [entry] = pending(&ledger)[..] else {
        panic!("expected one pending entry, got {:?}", pending(&ledger));
    };
    assert_eq!(entry.event_type.as_deref(), Some("test.order.placed"));
    assert_eq!(entry.event_id, Some(order.id.to_string()));
    assert_eq!(entry.aggregate_id.as_deref(), Some("order-42"));
    assert_eq!(entry.source_topic, setup.topic);
    assert!(entry.source_partition.is_some_and(|p| (0..3).contains(&p)));
    assert_eq!(entry.source_offset, Some(0));
    assert_eq!(entry.consumer, setup.group);
    assert!(
        entry.error.contains("no rule for test.order.placed"),
        "error: {}",
        entry.error
    );
    let age = entry.age_seconds(chrono::Utc::now());
    assert!((0.0..120.0).contains(&age), "age {age}");
    let names: Vec<&str> = entry.headers.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["id", "type", "traceparent"]);
}

#[tokio::test]
async fn a_replay_sends_the_original_key_value_and_headers_back_to_the_source_partition() {
    let setup = Setup::new().await;
    let order = event("test.order.placed", "order-9");
    setup.publish(&order).await;
    assert_eq!(setup.drain(1).await, vec![Outcome::DeadLettered]);

    setup.fix();
    setup
        .replay(Selection::All { event_type: None }, false)
        .await;

    let records = read_records(&setup.topic, 2).await;
    let [original, copy] = &records[..] else {
        panic!("expected the original and its copy, got {records:?}");
    };
    assert_eq!(copy.partition, original.partition);
    assert_eq!(copy.key, original.key);
    assert_eq!(copy.value, original.value);
    assert_eq!(copy.headers, original.headers, "no dlq.* header comes back");
}

#[tokio::test]
async fn replay_all_of_one_type_sends_only_that_type_and_the_others_stay_pending() {
    let setup = Setup::new().await;
    let placed = event("test.order.placed", "order-1");
    let paid = event("test.order.paid", "order-2");
    setup.publish(&placed).await;
    setup.publish(&paid).await;
    assert_eq!(
        setup.drain(2).await,
        vec![Outcome::DeadLettered, Outcome::DeadLettered]
    );

    setup.fix();
    let replayed = setup
        .replay(
            Selection::All {
                event_type: Some("test.order.paid".into()),
            },
            false,
        )
        .await;
    assert_eq!(replayed.len(), 1);
    assert_eq!(setup.drain(1).await, vec![Outcome::Processed]);

    assert_eq!(setup.effects_of(&paid).await, 1);
    assert_eq!(setup.effects_of(&placed).await, 0);
    let ledger = setup.ledger().await;
    let still: Vec<Option<&str>> = ledger.pending().map(|e| e.event_type.as_deref()).collect();
    assert_eq!(still, [Some("test.order.placed")]);
}

#[tokio::test]
async fn a_replayed_entry_is_no_longer_pending_and_is_not_replayed_again_unless_forced() {
    let setup = Setup::new().await;
    setup.publish(&event("test.order.placed", "order-1")).await;
    assert_eq!(setup.drain(1).await, vec![Outcome::DeadLettered]);
    setup.fix();
    let ledger = setup.ledger().await;
    let id = ledger.pending().next().expect("one pending").id;
    setup.replay(Selection::One(id), false).await;

    let ledger = setup.ledger().await;
    assert_eq!(ledger.pending_count(), 0);
    let (_, mark) = ledger.get(id).expect("still listed");
    let mark = mark.expect("marked as replayed");
    assert!(
        mark.to
            .as_deref()
            .is_some_and(|to| to.starts_with(&format!("{}:", setup.topic))),
        "marker names the copy: {mark:?}"
    );
    let all = dead_letters::select(&ledger, &Selection::All { event_type: None }, false)
        .expect("selects");
    assert!(all.is_empty(), "--all skips replayed entries");
    let error = dead_letters::select(&ledger, &Selection::One(id), false)
        .expect_err("a second replay must be forced");
    assert!(error.to_string().contains("already replayed"), "{error}");
}

#[derive(Debug)]
struct Raw {
    partition: i32,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    headers: Vec<(String, Option<Vec<u8>>)>,
}

/// Reads `n` records of `topic` from the beginning, in offset order per partition.
async fn read_records(topic: &str, n: usize) -> Vec<Raw> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers())
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
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while records.len() < n && tokio::time::Instant::now() < deadline {
        let Ok(Ok(message)) = tokio::time::timeout(Duration::from_secs(1), consumer.recv()).await
        else {
            continue;
        };
        let headers = message
            .headers()
            .map(|hs| {
                hs.iter()
                    .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec)))
                    .collect()
            })
            .unwrap_or_default();
        records.push(Raw {
            partition: message.partition(),
            key: message.key().map(<[u8]>::to_vec),
            value: message.payload().map(<[u8]>::to_vec),
            headers,
        });
    }
    records
}
