//! When a run fails: where each event of a few troubled orders went. For every event of
//! the order in the outboxes of order-, product- and payment-service — was it published,
//! is it on the broker (and where), did each service that consumes it consume it? That tells a lost event (published, not on
//! the topic) from a skipped one (on the topic, never consumed) from a stall (neither
//! yet), without reading a log line.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use uuid::Uuid;

use crate::db::Databases;

/// How long the topics must stay silent before a trace stops reading them.
const QUIET: Duration = Duration::from_secs(3);

/// Lines describing the events of `orders` (a few troubled ones, see
/// [`Databases::troubled_orders`]).
pub async fn trace(db: &Databases, brokers: &str, orders: &[(Uuid, String)]) -> Vec<String> {
    let mut events = Vec::new();
    for (order, why) in orders {
        events.push((*order, why.clone(), db.saga_events(*order).await));
    }
    let topics: BTreeSet<String> = events
        .iter()
        .flat_map(|(_, _, e)| e.iter().map(|e| e.topic.clone()))
        .collect();
    let brokers = brokers.to_owned();
    let read = topics.clone();
    let (positions, held) = tokio::task::spawn_blocking(move || positions(&brokers, &read))
        .await
        .expect("reading the topics");
    let mut lines = Vec::new();
    // A relay marks a row published only once the broker acked it: every published
    // row's event must be on its topic.
    for topic in &topics {
        let published = db.published_ids(topic).await;
        let missing = published
            .iter()
            .filter(|id| !positions.contains_key(id))
            .count();
        lines.push(format!(
            "topic {topic}: {} events published by the outboxes, the broker holds {} \
             messages, {missing} published events not among them",
            published.len(),
            held.get(topic).copied().unwrap_or_default()
        ));
    }
    for (order, why, events) in events {
        lines.push(format!("order {order} ({why}):"));
        for event in events {
            let on_topic = positions
                .get(&event.id)
                .map_or("NOT on the topic".to_owned(), |(p, o)| {
                    format!("on p{p}@{o}")
                });
            let consumed: Vec<String> = event
                .consumers
                .iter()
                .map(|(consumer, consumed)| {
                    let how = if *consumed {
                        "consumed"
                    } else {
                        "NOT consumed"
                    };
                    format!("{how} by {consumer}")
                })
                .collect();
            lines.push(format!(
                "  {} {} by {} at {}: {}, {on_topic}, {}",
                event.kind,
                event.id,
                event.producer,
                event.created_at,
                if event.published {
                    "published"
                } else {
                    "UNPUBLISHED"
                },
                consumed.join(", "),
            ));
        }
    }
    lines
}

/// Partition and offset of every message on `topics`, by the event id in its `id` header;
/// and how many messages each topic holds.
type Positions = (HashMap<Uuid, (i32, i64)>, HashMap<String, i64>);

/// Reads `topics` from the start until nothing new comes for [`QUIET`]. Not up to the
/// high watermarks: tansu 0.6.0 reports the last *batch's* base offset + 1 as the high
/// watermark (10 records in batches of 1, 1, 3, 5 read as (0, 6)), so a reader that
/// trusts it stops short.
fn positions(brokers: &str, topics: &BTreeSet<String>) -> Positions {
    let timeout = Duration::from_secs(10);
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set(
            "group.id",
            format!("chaos-trace-{}", Uuid::new_v4().simple()),
        )
        .set("enable.auto.commit", "false")
        .create()
        .expect("a consumer");
    let mut assignment = TopicPartitionList::new();
    for topic in topics {
        let Ok(metadata) = consumer.fetch_metadata(Some(topic), timeout) else {
            continue;
        };
        for partition in metadata.topics().iter().flat_map(|t| t.partitions()) {
            let _ = assignment.add_partition_offset(topic, partition.id(), Offset::Beginning);
        }
    }
    let mut found = HashMap::new();
    let mut held = HashMap::new();
    if consumer.assign(&assignment).is_err() {
        return (found, held);
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last = Instant::now();
    while last.elapsed() < QUIET && Instant::now() < deadline {
        let Some(Ok(message)) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        last = Instant::now();
        *held.entry(message.topic().to_owned()).or_default() += 1;
        let id = message.headers().and_then(|headers| {
            let header = headers
                .iter()
                .find(|h| h.key == comanda_outbox::kafka::HEADER_ID)?;
            std::str::from_utf8(header.value?).ok()?.parse().ok()
        });
        if let Some(id) = id {
            found.insert(id, (message.partition(), message.offset()));
        }
    }
    (found, held)
}
