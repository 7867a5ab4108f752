//! Reading and replaying the dead-letter topic: what `cargo xtask dlq` and the
//! relay's DLQ gauges are built on.
//!
//! A dead letter ([`crate::inbox::dlq`]) is the original record (key, value,
//! headers) plus `dlq.*` headers saying where it came from and why it failed.
//! Kafka is append-only, so a replay cannot remove the entry: it appends a small
//! marker record to the DLQ whose [`HEADER_REPLAYED`] names the entry, and readers
//! fold entries and markers into a [`Ledger`] in which the entry is no longer
//! pending. A replay sends the ORIGINAL key, value and headers back to the source
//! topic, so the event keeps its id and every consumer's dedupe still holds:
//! replaying twice has one effect.
//!
//! # Layout
//! - this file: [`DlqId`], [`DeadLetter`], replay markers, and the [`Ledger`] that
//!   folds the topic's records into pending and replayed entries.
//! - [`read`]: [`read::Reader`], reading every partition of the topic up to its end
//!   (once for the CLI, incrementally for the relay's watcher).
//! - [`replay`]: choosing entries and sending them back to their source topics.

pub mod read;
pub mod replay;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use rdkafka::message::{Headers, Message};

use crate::inbox::dlq::{
    HEADER_CONSUMER, HEADER_ERROR, HEADER_SOURCE_OFFSET, HEADER_SOURCE_PARTITION,
    HEADER_SOURCE_TOPIC,
};
use crate::kafka::{header, HEADER_ID, HEADER_TYPE};

pub use read::{read, Reader};
pub use replay::{replay, select, Replayed, Selection};

/// Header of a replay marker: the [`DlqId`] of the entry that was replayed.
pub const HEADER_REPLAYED: &str = "dlq.replayed";
/// Header of a replay marker: where the replayed copy went (`topic:partition:offset`).
pub const HEADER_REPLAYED_TO: &str = "dlq.replayed.to";
/// Prefix of every header the DLQ adds; a replay strips them.
pub const HEADER_PREFIX: &str = "dlq.";

/// Where a record sits in the DLQ topic (`<partition>:<offset>`): the id of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DlqId {
    /// Partition of the DLQ topic.
    pub partition: i32,
    /// Offset in that partition.
    pub offset: i64,
}

impl fmt::Display for DlqId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.partition, self.offset)
    }
}

impl FromStr for DlqId {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parse = || {
            let (partition, offset) = s.split_once(':')?;
            Some(Self {
                partition: partition.parse().ok().filter(|p: &i32| *p >= 0)?,
                offset: offset.parse().ok().filter(|o: &i64| *o >= 0)?,
            })
        };
        parse().ok_or_else(|| anyhow::anyhow!("`{s}` is not a DLQ id (<partition>:<offset>)"))
    }
}

/// One dead letter as read from the DLQ topic.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    /// Where it sits in the DLQ.
    pub id: DlqId,
    /// When it was dead-lettered (the DLQ record's timestamp).
    pub dead_lettered_at: Option<DateTime<Utc>>,
    /// The topic it was consumed from.
    pub source_topic: String,
    /// The partition it was consumed from.
    pub source_partition: Option<i32>,
    /// Its offset in the source partition.
    pub source_offset: Option<i64>,
    /// The consumer group that gave up on it.
    pub consumer: String,
    /// Why.
    pub error: String,
    /// Event type (header `type`, else the envelope's `type`), if it has one.
    pub event_type: Option<String>,
    /// Event id (header `id`, else the envelope's `id`), if it has one.
    pub event_id: Option<String>,
    /// Aggregate id: the envelope's `aggregate_id`, else the Kafka key as text.
    pub aggregate_id: Option<String>,
    /// The original Kafka key.
    pub key: Option<Vec<u8>>,
    /// The original value, byte for byte.
    pub value: Option<Vec<u8>>,
    /// The original headers, in order, without the `dlq.*` ones.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

impl DeadLetter {
    /// Seconds since it was dead-lettered (0 when the record had no timestamp).
    pub fn age_seconds(&self, now: DateTime<Utc>) -> f64 {
        self.dead_lettered_at
            .map(|at| (now - at).num_milliseconds().max(0) as f64 / 1000.0)
            .unwrap_or(0.0)
    }
}

/// A replay marker: entry `of` was sent back to its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayMark {
    /// The entry replayed.
    pub of: DlqId,
    /// Where the marker itself sits.
    pub marker: DlqId,
    /// When it was replayed.
    pub at: Option<DateTime<Utc>>,
    /// Where the copy went (`topic:partition:offset`), as the marker says.
    pub to: Option<String>,
}

/// What one record of the DLQ topic is.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// A dead letter.
    Entry(Box<DeadLetter>),
    /// A marker saying an entry was replayed.
    Replayed(ReplayMark),
    /// Neither (no `dlq.source.topic` header): not written by an inbox; ignored.
    Foreign(DlqId),
}

impl Record {
    /// Classifies a record read from the DLQ topic.
    pub fn parse<M: Message>(message: &M) -> Self {
        let id = DlqId {
            partition: message.partition(),
            offset: message.offset(),
        };
        let at = message
            .timestamp()
            .to_millis()
            .and_then(|ms| Utc.timestamp_millis_opt(ms).single());
        let headers = message.headers();
        let text = |name: &str| header(headers, name).map(str::to_owned);
        if let Some(of) = text(HEADER_REPLAYED).and_then(|s| s.parse().ok()) {
            return Self::Replayed(ReplayMark {
                of,
                marker: id,
                at,
                to: text(HEADER_REPLAYED_TO),
            });
        }
        let Some(source_topic) = text(HEADER_SOURCE_TOPIC) else {
            return Self::Foreign(id);
        };
        let envelope: Option<serde_json::Value> = message
            .payload()
            .and_then(|value| serde_json::from_slice(value).ok());
        let from_envelope = |field: &str| {
            envelope
                .as_ref()
                .and_then(|e| e.get(field))
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        let original_headers = headers
            .map(|hs| {
                hs.iter()
                    .filter(|h| !h.key.starts_with(HEADER_PREFIX))
                    .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec)))
                    .collect()
            })
            .unwrap_or_default();
        Self::Entry(Box::new(DeadLetter {
            id,
            dead_lettered_at: at,
            source_topic,
            source_partition: text(HEADER_SOURCE_PARTITION).and_then(|p| p.parse().ok()),
            source_offset: text(HEADER_SOURCE_OFFSET).and_then(|o| o.parse().ok()),
            consumer: text(HEADER_CONSUMER).unwrap_or_default(),
            error: text(HEADER_ERROR).unwrap_or_default(),
            event_type: text(HEADER_TYPE).or_else(|| from_envelope("type")),
            event_id: text(HEADER_ID).or_else(|| from_envelope("id")),
            aggregate_id: from_envelope("aggregate_id").or_else(|| {
                message
                    .key()
                    .map(|key| String::from_utf8_lossy(key).into_owned())
            }),
            key: message.key().map(<[u8]>::to_vec),
            value: message.payload().map(<[u8]>::to_vec),
            headers: original_headers,
        }))
    }
}

/// The DLQ topic folded into entries and replay marks. Records may be added in
/// any order across partitions: a mark read before its entry still counts.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    entries: BTreeMap<DlqId, DeadLetter>,
    replays: BTreeMap<DlqId, ReplayMark>,
}

impl Ledger {
    /// Adds one record of the topic.
    pub fn add(&mut self, record: Record) {
        match record {
            Record::Entry(entry) => {
                self.entries.insert(entry.id, *entry);
            }
            // The first replay is the one that counts; later (forced) ones keep it.
            Record::Replayed(mark) => {
                self.replays.entry(mark.of).or_insert(mark);
            }
            Record::Foreign(_) => {}
        }
    }

    /// Every entry in id order, with its replay mark if it was replayed.
    pub fn entries(&self) -> impl Iterator<Item = (&DeadLetter, Option<&ReplayMark>)> {
        self.entries
            .values()
            .map(|entry| (entry, self.replays.get(&entry.id)))
    }

    /// Entries not replayed yet, in id order.
    pub fn pending(&self) -> impl Iterator<Item = &DeadLetter> {
        self.entries
            .values()
            .filter(|entry| !self.replays.contains_key(&entry.id))
    }

    /// Entry `id` and its replay mark, if the topic has it.
    pub fn get(&self, id: DlqId) -> Option<(&DeadLetter, Option<&ReplayMark>)> {
        self.entries
            .get(&id)
            .map(|entry| (entry, self.replays.get(&id)))
    }

    /// How many entries are pending: the DLQ's size.
    pub fn pending_count(&self) -> usize {
        self.pending().count()
    }

    /// When the oldest pending entry was dead-lettered.
    pub fn oldest_pending(&self) -> Option<DateTime<Utc>> {
        self.pending().filter_map(|e| e.dead_lettered_at).min()
    }

    /// Seconds since the oldest pending entry was dead-lettered; 0 when none is.
    pub fn oldest_pending_age_seconds(&self, now: DateTime<Utc>) -> f64 {
        self.pending()
            .map(|e| e.age_seconds(now))
            .fold(0.0, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};
    use rdkafka::message::{Header, OwnedHeaders, OwnedMessage, Timestamp};

    use super::*;

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 29, 12, minute, 0).unwrap()
    }

    fn message(partition: i32, offset: i64, minute: u32, headers: &[(&str, &str)]) -> OwnedMessage {
        let mut owned = OwnedHeaders::new();
        for (key, value) in headers {
            owned = owned.insert(Header {
                key,
                value: Some(*value),
            });
        }
        let envelope = serde_json::json!({
            "id": "0193aaaa-0000-7000-8000-000000000001",
            "type": "order.created.pending",
            "aggregate_id": "order-7",
        });
        OwnedMessage::new(
            Some(serde_json::to_vec(&envelope).expect("serialises")),
            Some(b"order-7".to_vec()),
            "failed.send.event.dlq".into(),
            Timestamp::CreateTime(at(minute).timestamp_millis()),
            partition,
            offset,
            Some(owned),
        )
    }

    fn entry(partition: i32, offset: i64, minute: u32) -> Record {
        Record::parse(&message(
            partition,
            offset,
            minute,
            &[
                ("id", "0193aaaa-0000-7000-8000-000000000001"),
                ("traceparent", "00-abc-def-01"),
                (HEADER_SOURCE_TOPIC, "order.created.pending"),
                (HEADER_SOURCE_PARTITION, "2"),
                (HEADER_SOURCE_OFFSET, "41"),
                (HEADER_ERROR, "permanent failure: no such product"),
                (HEADER_CONSUMER, "product-service"),
            ],
        ))
    }

    fn mark(partition: i32, offset: i64, of: &str) -> Record {
        Record::parse(&message(partition, offset, 30, &[(HEADER_REPLAYED, of)]))
    }

    #[test]
    fn an_entry_keeps_its_original_headers_and_names_its_source_and_aggregate() {
        let Record::Entry(entry) = entry(1, 5, 0) else {
            panic!("not an entry");
        };
        assert_eq!(entry.id.to_string(), "1:5");
        assert_eq!(entry.source_topic, "order.created.pending");
        assert_eq!(entry.source_partition, Some(2));
        assert_eq!(entry.source_offset, Some(41));
        assert_eq!(entry.consumer, "product-service");
        assert_eq!(entry.error, "permanent failure: no such product");
        assert_eq!(
            entry.event_type.as_deref(),
            Some("order.created.pending"),
            "taken from the envelope when the header is missing"
        );
        assert_eq!(entry.aggregate_id.as_deref(), Some("order-7"));
        let names: Vec<&str> = entry.headers.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["id", "traceparent"], "dlq.* headers are stripped");
        assert_eq!(entry.age_seconds(at(0) + Duration::seconds(90)), 90.0);
    }

    #[test]
    fn a_replayed_entry_is_no_longer_pending_and_the_oldest_pending_one_sets_the_age() {
        let mut ledger = Ledger::default();
        // The mark of 0:0 arrives before the entry (another partition was read first).
        ledger.add(mark(1, 3, "0:0"));
        ledger.add(entry(0, 0, 0));
        ledger.add(entry(0, 1, 10));
        ledger.add(entry(2, 0, 20));

        assert_eq!(ledger.pending_count(), 2);
        assert_eq!(ledger.oldest_pending(), Some(at(10)));
        assert_eq!(ledger.oldest_pending_age_seconds(at(11)), 60.0);
        let id = DlqId {
            partition: 0,
            offset: 0,
        };
        let (_, replayed) = ledger.get(id).expect("entry 0:0 is listed");
        assert_eq!(replayed.map(|m| m.marker.to_string()), Some("1:3".into()));

        ledger.add(mark(0, 2, "0:1"));
        ledger.add(mark(2, 1, "2:0"));
        assert_eq!(ledger.pending_count(), 0);
        assert_eq!(ledger.oldest_pending_age_seconds(at(59)), 0.0);
        assert_eq!(
            ledger.entries().count(),
            3,
            "replayed entries are still listed"
        );
    }

    #[test]
    fn a_record_without_dlq_headers_is_neither_entry_nor_mark() {
        let mut ledger = Ledger::default();
        ledger.add(Record::parse(&message(0, 0, 0, &[("id", "x")])));
        assert_eq!(ledger.entries().count(), 0);
    }

    #[test]
    fn dlq_ids_parse_only_as_partition_colon_offset() {
        assert_eq!(
            "2:17".parse::<DlqId>().ok(),
            Some(DlqId {
                partition: 2,
                offset: 17
            })
        );
        for bad in ["", "2", "2:", ":3", "a:1", "-1:2", "1:-2", "1:2:3"] {
            assert!(bad.parse::<DlqId>().is_err(), "{bad} parsed");
        }
    }
}
