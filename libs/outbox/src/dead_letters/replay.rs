//! Sending dead letters back to where they came from.
//!
//! Each entry goes back to its source topic and partition with its original key,
//! value and headers (the `dlq.*` ones stripped): the event keeps its id, so a
//! consumer that did apply it meanwhile sees a duplicate and does nothing. Only
//! after the broker acked the copy is the replay marker appended to the DLQ; a
//! crash in between leaves the entry pending, and replaying it again is harmless
//! for the same reason.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::Context;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;

use super::{DeadLetter, DlqId, Ledger, HEADER_REPLAYED, HEADER_REPLAYED_TO};
use crate::{kafka, topics};

/// Which entries to replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// One entry.
    One(DlqId),
    /// Every pending entry, or only those of one event type.
    All {
        /// Only entries of this event type.
        event_type: Option<String>,
    },
}

/// One entry sent back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replayed {
    /// The entry.
    pub id: DlqId,
    /// Where its copy went.
    pub topic: String,
    /// Partition of the copy.
    pub partition: i32,
    /// Offset of the copy.
    pub offset: i64,
}

/// The entries `selection` names. Replayed entries are left out unless `force`
/// (naming one that was replayed without `force` is an error, so a second
/// replay is always deliberate).
pub fn select<'a>(
    ledger: &'a Ledger,
    selection: &Selection,
    force: bool,
) -> anyhow::Result<Vec<&'a DeadLetter>> {
    match selection {
        Selection::One(id) => {
            let (entry, replayed) = ledger
                .get(*id)
                .with_context(|| format!("the DLQ has no entry {id}"))?;
            if let (Some(mark), false) = (replayed, force) {
                anyhow::bail!(
                    "entry {id} was already replayed (marker {}); pass --force to send it again",
                    mark.marker
                );
            }
            Ok(vec![entry])
        }
        Selection::All { event_type } => Ok(ledger
            .entries()
            .filter(|(_, replayed)| force || replayed.is_none())
            .map(|(entry, _)| entry)
            .filter(|entry| {
                event_type
                    .as_ref()
                    .is_none_or(|wanted| entry.event_type.as_ref() == Some(wanted))
            })
            .collect()),
    }
}

/// Sends `entries` back to their source topics and marks each as replayed in
/// `dlq_topic`, one after the other; stops at the first failure (what was
/// replayed before it stays replayed and is returned in the error's context).
pub async fn replay(
    brokers: &str,
    dlq_topic: &str,
    entries: &[&DeadLetter],
) -> anyhow::Result<Vec<Replayed>> {
    let producer: FutureProducer = kafka::producer_config(brokers)
        .create()
        .context("creating the replay producer")?;
    // A broker restarted empty may have forgotten a source topic.
    let sources: BTreeSet<&str> = entries.iter().map(|e| e.source_topic.as_str()).collect();
    let sources: Vec<&str> = sources.into_iter().collect();
    topics::ensure(brokers, &sources).await?;
    let mut done = Vec::with_capacity(entries.len());
    for entry in entries {
        let replayed = replay_one(&producer, dlq_topic, entry)
            .await
            .with_context(|| {
                let ids: Vec<String> = done.iter().map(|r: &Replayed| r.id.to_string()).collect();
                format!(
                    "replaying {} (replayed before it: [{}])",
                    entry.id,
                    ids.join(", ")
                )
            })?;
        tracing::info!(
            entry = %entry.id,
            topic = %replayed.topic,
            partition = replayed.partition,
            offset = replayed.offset,
            "dead letter replayed"
        );
        done.push(replayed);
    }
    Ok(done)
}

async fn replay_one(
    producer: &FutureProducer,
    dlq_topic: &str,
    entry: &DeadLetter,
) -> anyhow::Result<Replayed> {
    let timeout = Timeout::After(Duration::from_secs(15));
    let mut headers = OwnedHeaders::new_with_capacity(entry.headers.len());
    for (key, value) in &entry.headers {
        headers = headers.insert(Header {
            key,
            value: value.as_deref(),
        });
    }
    let mut record: FutureRecord<'_, [u8], [u8]> =
        FutureRecord::to(&entry.source_topic).headers(headers);
    // Back to the partition it was consumed from: the aggregate's order holds
    // whatever partitioner first placed it.
    if let Some(partition) = entry.source_partition {
        record = record.partition(partition);
    }
    if let Some(key) = &entry.key {
        record = record.key(key);
    }
    if let Some(value) = &entry.value {
        record = record.payload(value);
    }
    let copy = producer
        .send(record, timeout)
        .await
        .map_err(|(error, _)| error)
        .with_context(|| format!("sending to {}", entry.source_topic))?;

    let id = entry.id.to_string();
    let to = format!("{}:{}:{}", entry.source_topic, copy.partition, copy.offset);
    let marker_headers = OwnedHeaders::new()
        .insert(Header {
            key: HEADER_REPLAYED,
            value: Some(id.as_str()),
        })
        .insert(Header {
            key: HEADER_REPLAYED_TO,
            value: Some(to.as_str()),
        });
    // Next to its entry, so a reader of that partition sees both.
    let marker: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(dlq_topic)
        .partition(entry.id.partition)
        .headers(marker_headers);
    producer
        .send(marker, timeout)
        .await
        .map_err(|(error, _)| error)
        .with_context(|| format!("marking {id} as replayed in {dlq_topic}"))?;
    Ok(Replayed {
        id: entry.id,
        topic: entry.source_topic.clone(),
        partition: copy.partition,
        offset: copy.offset,
    })
}
