use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use comanda_outbox::inbox::dlq;
use comanda_outbox::kafka::header;
use comanda_outbox::{append, topics, Envelope, Handler, HandlerError, Inbox, Outcome};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::ClientConfig;
use serde_json::json;

use crate::helpers::{brokers, envelope, produce, producer, unique_topic, TestDb};

/// Records one row in `effects` per application; optionally fails afterwards.
struct RecordEffect {
    attempts: Arc<AtomicUsize>,
    fail_with: Option<fn() -> HandlerError>,
    reply_topic: Option<String>,
}

impl RecordEffect {
    fn ok() -> Self {
        Self {
            attempts: Arc::default(),
            fail_with: None,
            reply_topic: None,
        }
    }
}

#[async_trait]
impl Handler for RecordEffect {
    async fn handle(
        &self,
        event: &Envelope,
        conn: &mut AsyncPgConnection,
    ) -> Result<(), HandlerError> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        diesel::sql_query(format!(
            "INSERT INTO effects (event_id, note) VALUES ('{}', 'applied')",
            event.id
        ))
        .execute(conn)
        .await?;
        if let Some(topic) = &self.reply_topic {
            let reply = Envelope::new("test.replied", 1, "tests", &event.aggregate_id, json!({}))
                .caused_by(event);
            append(conn, topic, &reply).await?;
        }
        match self.fail_with {
            Some(failure) => Err(failure()),
            None => Ok(()),
        }
    }
}

fn group() -> String {
    format!("test-group-{}", uuid::Uuid::new_v4().simple())
}

/// Polls until `n` outcomes were collected (or 30 s pass).
async fn drain(inbox: &Inbox, n: usize) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while outcomes.len() < n && tokio::time::Instant::now() < deadline {
        if let Some(outcome) = inbox
            .poll_once(Duration::from_secs(1))
            .await
            .expect("polls")
        {
            outcomes.push(outcome);
        }
    }
    outcomes
}

#[tokio::test]
async fn a_message_delivered_twice_has_one_effect() {
    let db = TestDb::new().await;
    let topic = unique_topic("dup");
    let inbox = Inbox::builder(&group(), &brokers())
        .handle(&topic, RecordEffect::ok())
        .build(db.pool.clone())
        .await
        .expect("inbox builds");
    let event = envelope("agg-1", json!({"n": 1}));
    let bytes = serde_json::to_vec(&event).expect("serialises");
    let producer = producer();
    produce(&producer, &topic, "agg-1", &bytes).await;
    produce(&producer, &topic, "agg-1", &bytes).await;

    let outcomes = drain(&inbox, 2).await;

    assert_eq!(outcomes, vec![Outcome::Processed, Outcome::Duplicate]);
    assert_eq!(db.count("SELECT count(*) AS n FROM effects").await, 1);
    assert_eq!(
        db.count("SELECT count(*) AS n FROM processed_messages")
            .await,
        1
    );
}

#[tokio::test]
async fn a_poison_message_goes_to_the_dlq_with_its_headers_and_later_messages_are_processed() {
    let db = TestDb::new().await;
    let topic = unique_topic("poison");
    let inbox = Inbox::builder(&group(), &brokers())
        .handle(&topic, RecordEffect::ok())
        .build(db.pool.clone())
        .await
        .expect("inbox builds");
    let producer = producer();
    // Same key: same partition, so the good message waits behind the poison one.
    produce(&producer, &topic, "k", b"{not json").await;
    let good = envelope("k", json!({}));
    produce(
        &producer,
        &topic,
        "k",
        &serde_json::to_vec(&good).expect("json"),
    )
    .await;

    let outcomes = drain(&inbox, 2).await;

    assert_eq!(outcomes, vec![Outcome::DeadLettered, Outcome::Processed]);
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) AS n FROM effects WHERE event_id = '{}'",
            good.id
        ))
        .await,
        1
    );
    let dead = find_dead_letter(&topic).await;
    assert_eq!(dead.payload, b"{not json");
    assert_eq!(dead.key.as_deref(), Some(&b"k"[..]));
    assert!(
        dead.partition.parse::<i32>().is_ok(),
        "partition header: {}",
        dead.partition
    );
    assert_eq!(
        dead.offset, "0",
        "the poison message was the first on its partition"
    );
    assert!(
        dead.error.contains("undecodable"),
        "error header: {}",
        dead.error
    );
}

#[tokio::test]
async fn a_handler_that_says_the_message_is_invalid_dead_letters_it_at_once_with_nothing_committed()
{
    let db = TestDb::new().await;
    let topic = unique_topic("invalid");
    let reply_topic = unique_topic("reply");
    let handler = RecordEffect {
        attempts: Arc::default(),
        fail_with: Some(|| HandlerError::permanent("an order needs lines")),
        reply_topic: Some(reply_topic),
    };
    let attempts = Arc::clone(&handler.attempts);
    let inbox = Inbox::builder(&group(), &brokers())
        .handle(&topic, handler)
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

    let outcomes = drain(&inbox, 1).await;

    assert_eq!(outcomes, vec![Outcome::DeadLettered]);
    assert_eq!(AtomicUsize::load(&attempts, Ordering::SeqCst), 1);
    assert_eq!(db.count("SELECT count(*) AS n FROM effects").await, 0);
    assert_eq!(db.count("SELECT count(*) AS n FROM outbox").await, 0);
    assert_eq!(
        db.count("SELECT count(*) AS n FROM processed_messages")
            .await,
        0
    );
    let dead = find_dead_letter(&topic).await;
    assert!(
        dead.error.contains("an order needs lines"),
        "error header: {}",
        dead.error
    );
}

#[tokio::test]
async fn a_reply_event_commits_together_with_the_effect_and_names_its_cause() {
    let db = TestDb::new().await;
    let topic = unique_topic("request");
    let reply_topic = unique_topic("reply");
    let handler = RecordEffect {
        reply_topic: Some(reply_topic.clone()),
        ..RecordEffect::ok()
    };
    let inbox = Inbox::builder(&group(), &brokers())
        .handle(&topic, handler)
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

    assert_eq!(drain(&inbox, 1).await, vec![Outcome::Processed]);

    let sql = format!(
        "SELECT count(*) AS n FROM outbox WHERE topic = '{reply_topic}' \
         AND correlation_id = '{}' AND payload->>'causation_id' = '{}'",
        event.correlation_id, event.id
    );
    assert_eq!(db.count(&sql).await, 1);
}

struct DeadLetter {
    key: Option<Vec<u8>>,
    payload: Vec<u8>,
    partition: String,
    offset: String,
    error: String,
}

/// Reads the DLQ from the start until the record that came from `source_topic`.
async fn find_dead_letter(source_topic: &str) -> DeadLetter {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .set("group.id", group())
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    consumer.subscribe(&[topics::DLQ]).expect("subscribes");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while tokio::time::Instant::now() < deadline {
        let Ok(Ok(message)) = tokio::time::timeout(Duration::from_secs(1), consumer.recv()).await
        else {
            continue;
        };
        let headers = message.headers();
        if header(headers, dlq::HEADER_SOURCE_TOPIC) != Some(source_topic) {
            continue;
        }
        let get = |name| header(headers, name).unwrap_or_default().to_owned();
        return DeadLetter {
            key: message.key().map(<[u8]>::to_vec),
            payload: message.payload().unwrap_or_default().to_vec(),
            partition: get(dlq::HEADER_SOURCE_PARTITION),
            offset: get(dlq::HEADER_SOURCE_OFFSET),
            error: get(dlq::HEADER_ERROR),
        };
    }
    panic!("no dead letter from {source_topic} within 30 s");
}
