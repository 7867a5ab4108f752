//! Reading the DLQ topic to its end: every partition, from the beginning, with
//! no consumer group (nothing is committed, nothing joins a group), so reading
//! never disturbs anyone and always sees the whole topic.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientConfig;
use tokio_util::sync::CancellationToken;

use super::{Ledger, Record};

/// How long one broker request (metadata, watermarks) may take; also how long a
/// stop may wait for the request in flight.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long reading up to the ends of all partitions may take.
const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(30);

/// Reads the whole DLQ topic `topic` once (CLI, tests).
pub async fn read(brokers: &str, topic: &str) -> anyhow::Result<Ledger> {
    let mut reader = Reader::new(brokers, topic)?;
    let reader = tokio::task::spawn_blocking(move || reader.catch_up().map(|()| reader))
        .await
        .context("the DLQ reader panicked")??;
    Ok(reader.into_ledger())
}

/// An incremental reader of the DLQ topic. Its calls block (librdkafka's
/// metadata and watermark requests are synchronous): run them on a blocking thread.
pub struct Reader {
    consumer: BaseConsumer,
    topic: String,
    /// Next offset to read, per partition.
    next: BTreeMap<i32, i64>,
    ledger: Ledger,
}

impl Reader {
    /// A reader of `topic` that has read nothing yet.
    pub fn new(brokers: &str, topic: &str) -> anyhow::Result<Self> {
        Self::secured(
            brokers,
            &comanda_kit::settings::KafkaSecurity::default(),
            topic,
        )
    }

    /// [`Reader::new`], signing in with `security`.
    pub fn secured(
        brokers: &str,
        security: &comanda_kit::settings::KafkaSecurity,
        topic: &str,
    ) -> anyhow::Result<Self> {
        let consumer: BaseConsumer = security
            .apply(ClientConfig::new().set("bootstrap.servers", brokers))
            // Required by librdkafka, never used: partitions are assigned, not
            // subscribed, and no offset is ever committed.
            .set("group.id", "comanda-dlq-reader")
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("enable.partition.eof", "false")
            .create()
            .context("creating the DLQ reader")?;
        Ok(Self {
            consumer,
            topic: topic.to_owned(),
            next: BTreeMap::new(),
            ledger: Ledger::default(),
        })
    }

    /// What has been read so far.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// What has been read, by value.
    pub fn into_ledger(self) -> Ledger {
        self.ledger
    }

    /// Reads every partition from where the last call stopped up to the end it
    /// has now. A partition that got shorter (a broker restarted empty) means the
    /// topic was re-created: everything is read again from the start.
    pub fn catch_up(&mut self) -> anyhow::Result<()> {
        self.catch_up_or_stop(&CancellationToken::new())
    }

    /// [`Reader::catch_up`], giving up soon after `stop` is cancelled (what was
    /// read stays read; the next call goes on from there).
    pub fn catch_up_or_stop(&mut self, stop: &CancellationToken) -> anyhow::Result<()> {
        let ends = self.ends()?;
        if ends
            .iter()
            .any(|(p, &(_, high))| self.next.get(p).is_some_and(|&n| n > high))
        {
            tracing::warn!(topic = %self.topic, "the DLQ topic got shorter; reading it again");
            self.next.clear();
            self.ledger = Ledger::default();
        }
        let mut behind = TopicPartitionList::new();
        for (&partition, &(low, high)) in &ends {
            let next = *self.next.entry(partition).or_insert(low);
            if next < high {
                behind
                    .add_partition_offset(&self.topic, partition, Offset::Offset(next))
                    .context("assigning a partition")?;
            }
        }
        if behind.count() == 0 {
            return Ok(());
        }
        self.consumer.assign(&behind).context("assigning the DLQ")?;
        let result = self.read_until(&ends, stop);
        let _ = self.consumer.unassign();
        result
    }

    /// `(low, high)` watermarks of every partition of the topic.
    fn ends(&self) -> anyhow::Result<BTreeMap<i32, (i64, i64)>> {
        let metadata = self
            .consumer
            .fetch_metadata(Some(&self.topic), REQUEST_TIMEOUT)
            .with_context(|| format!("reading metadata of {}", self.topic))?;
        let topic = metadata
            .topics()
            .iter()
            .find(|t| t.name() == self.topic)
            .with_context(|| format!("the broker did not describe {}", self.topic))?;
        match topic.error().map(RDKafkaErrorCode::from) {
            None => {}
            // Nothing was ever dead-lettered on this broker: an empty DLQ.
            Some(RDKafkaErrorCode::UnknownTopicOrPartition) => return Ok(BTreeMap::new()),
            Some(code) => anyhow::bail!("topic {}: {code}", self.topic),
        }
        let mut ends = BTreeMap::new();
        for partition in topic.partitions() {
            let id = partition.id();
            let watermarks = self
                .consumer
                .fetch_watermarks(&self.topic, id, REQUEST_TIMEOUT)
                .with_context(|| format!("reading the end of {}[{id}]", self.topic))?;
            ends.insert(id, watermarks);
        }
        Ok(ends)
    }

    /// Polls until every partition was read up to `ends`. Offsets are dense
    /// (Comanda writes no transactions, so there are no control records), so
    /// "read up to the high watermark" is "saw offset high - 1".
    fn read_until(
        &mut self,
        ends: &BTreeMap<i32, (i64, i64)>,
        stop: &CancellationToken,
    ) -> anyhow::Result<()> {
        let done = |next: &BTreeMap<i32, i64>| {
            ends.iter()
                .all(|(p, &(_, high))| next.get(p).is_some_and(|&n| n >= high))
        };
        let deadline = Instant::now() + CATCH_UP_TIMEOUT;
        while !done(&self.next) {
            anyhow::ensure!(!stop.is_cancelled(), "stopped reading {}", self.topic);
            anyhow::ensure!(
                Instant::now() < deadline,
                "could not read {} to its end within {CATCH_UP_TIMEOUT:?}",
                self.topic
            );
            match self.consumer.poll(Duration::from_millis(500)) {
                None => {}
                Some(Ok(message)) => {
                    let partition = message.partition();
                    let next = self.next.entry(partition).or_insert(0);
                    // Records from before a re-assignment may still be queued.
                    if message.offset() >= *next {
                        *next = message.offset() + 1;
                        self.ledger.add(Record::parse(&message));
                    }
                }
                Some(Err(error)) => {
                    return Err(error).with_context(|| format!("reading {}", self.topic));
                }
            }
        }
        Ok(())
    }
}
