//! The inbox consumer runtime: an idempotent Kafka consumer.
//!
//! For each message, in partition order: decode the envelope, then in ONE
//! database transaction insert `(consumer, event id)` into `processed_messages`
//! (a conflict means the message was applied before: skip the effect), run the
//! topic's [`Handler`] (effect + reply events in the outbox), commit; only then
//! commit the Kafka offset. A crash anywhere before the offset commit redelivers
//! the message, and the processed row makes the redelivery a no-op.
//!
//! Failures: only a message that can never succeed — undecodable, for a topic
//! without a handler, or a [`HandlerError::Permanent`] — goes to the dead-letter
//! topic. Everything else (a database that is down, read-only, full or timing out)
//! is retried with capped backoff for as long as it takes ([`retry`]); a lost race
//! ([`HandlerError::Conflict`]) is retried at once. Messages are applied in the order
//! they arrive, so a partition's order always holds; the messages already waiting are
//! applied together in one transaction ([`batch`]), each still deduped on its own.
//!
//! Liveness: a message being retried is reported on the stall board (`/ready`) and in
//! `inbox_stall_seconds{reason="retrying"}`; a consumer that stops receiving while its
//! group has lag is noticed by the [`watchdog`], reported the same way
//! (`reason="no_progress"`) and rebuilt (`inbox_consumer_rebuilds_total`).
//!
//! # Layout
//! - this file: the receive loop and the consumer's rebuild.
//! - [`builder`]: which topics, which handlers, how patient.
//! - [`handler`]: what a consumer implements, and the error policy.
//! - [`batch`]: the waiting messages in one transaction, one by one when that fails.
//! - [`lanes`]: the partitions of one consumer applied side by side (opt-in).
//! - [`retry`]: applying one message (dedupe + effect) until it sticks.
//! - [`watchdog`]: lag without progress, seen from outside the group protocol.
//! - [`dlq`]: writing a dead letter.

mod batch;
mod builder;
pub mod dlq;
pub mod handler;
mod lanes;
mod retry;
mod watchdog;

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;
use comanda_kit::settings::{Assignment, KafkaSettings};
use comanda_kit::stalls::Stalls;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::AsyncPgConnection;
use futures::FutureExt;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::producer::FutureProducer;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

pub use builder::InboxBuilder;
pub use handler::{decode, Handler, HandlerError};

use crate::envelope::Envelope;
use crate::topics;
use watchdog::{Verdict, Watchdog};

/// Default of [`InboxBuilder::stall_timeout`].
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long reading a topic's partitions may take ([`Assignment::All`]).
const METADATA_TIMEOUT: Duration = Duration::from_secs(10);
/// How long closing a stalled consumer may take before its replacement joins anyway.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default of [`InboxBuilder::max_batch`].
pub const DEFAULT_MAX_BATCH: usize = 100;

/// What happened to one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The handler's effect committed.
    Processed,
    /// Already processed before: no effect.
    Duplicate,
    /// Sent to the dead-letter topic.
    DeadLettered,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Processed => "processed",
            Outcome::Duplicate => "duplicate",
            Outcome::DeadLettered => "dead_lettered",
        }
    }
}

/// Gives `consumer` its partitions of `topics`: subscribes (the group protocol) or,
/// with [`Assignment::All`], assigns every partition from the group's committed offset
/// (the earliest message where there is none).
fn attach(
    consumer: &StreamConsumer,
    topics: &[String],
    assignment: Assignment,
) -> anyhow::Result<()> {
    match assignment {
        Assignment::Group => {
            let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
            consumer.subscribe(&topics).context("subscribing")?;
        }
        Assignment::All => {
            let mut partitions = TopicPartitionList::new();
            for topic in topics {
                let metadata = consumer
                    .fetch_metadata(Some(topic), METADATA_TIMEOUT)
                    .with_context(|| format!("reading the partitions of {topic}"))?;
                for found in metadata.topics() {
                    for partition in found.partitions() {
                        partitions
                            .add_partition_offset(found.name(), partition.id(), Offset::Stored)
                            .context("listing a partition")?;
                    }
                }
            }
            consumer
                .assign(&partitions)
                .context("assigning the partitions")?;
        }
    }
    Ok(())
}

/// An idempotent consumer bound to a consumer group and a service database.
pub struct Inbox {
    name: String,
    brokers: String,
    handlers: HashMap<String, Arc<dyn Handler>>,
    subscribed: Vec<String>,
    first_retry: Duration,
    max_retry_delay: Duration,
    dlq_topic: String,
    /// Most messages applied in one transaction ([`batch`]).
    max_batch: usize,
    /// Partitions applied side by side ([`lanes`]); 1: one after the other.
    lanes: usize,
    pool: Pool<AsyncPgConnection>,
    /// How every consumer of this inbox is made (group, static name, timeouts).
    member_config: ClientConfig,
    assignment: Assignment,
    /// Replaced by a new consumer when the watchdog finds this one stalled.
    consumer: Mutex<Arc<StreamConsumer>>,
    dlq: FutureProducer,
    stalls: Stalls,
    /// This inbox's name on the stall board.
    stall_name: String,
    /// Messages finished so far: progress the watchdog sees even before offsets move.
    handled: AtomicU64,
    watchdog: tokio::sync::Mutex<Watchdog>,
}

impl Inbox {
    /// Starts building the inbox of consumer group `name` (also the dedupe scope).
    pub fn builder(name: &str, brokers: &str) -> InboxBuilder {
        InboxBuilder::new(name, brokers)
    }

    /// Starts building a service's inbox of group `group` as its settings say: the
    /// group and dead-letter topic under the topic prefix, the stall timeout, and
    /// this process's static member name.
    pub fn for_service(kafka: &KafkaSettings, group: &str, stalls: &Stalls) -> InboxBuilder {
        Self::builder(&kafka.group(group), &kafka.brokers)
            .security(kafka.security())
            .dlq_topic(kafka.topic(topics::DLQ))
            .stalls(stalls.clone())
            .stall_timeout(kafka.consumer_stall_timeout())
            .instance_id(kafka.instance_id())
            .assignment(kafka.assignment)
            .durability(kafka.into())
            .fetch_wait(kafka.fetch_wait())
            .max_batch(kafka.consumer_max_batch)
            .lanes_limit(kafka.consumer_lanes)
    }

    /// The consumer in use now.
    fn consumer(&self) -> Arc<StreamConsumer> {
        Arc::clone(&self.consumer.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Receives and fully handles at most one message; `None` when none arrived
    /// within `timeout`. Tests use it to drain deterministically.
    pub async fn poll_once(&self, timeout: Duration) -> anyhow::Result<Option<Outcome>> {
        let consumer = self.consumer();
        match tokio::time::timeout(timeout, consumer.recv()).await {
            Err(_elapsed) => Ok(None),
            Ok(Err(error)) => Err(error.into()),
            Ok(Ok(message)) => Ok(Some(self.handle_message(&consumer, &message).await)),
        }
    }

    /// Receives at least one message (waiting up to `timeout`; none: empty), takes
    /// those already waiting behind it, up to [`InboxBuilder::max_batch`], and handles
    /// them as [`Inbox::run`] does: together in one transaction per lane where they all
    /// apply.
    /// Tests use it to drain deterministically.
    pub async fn poll_batch(&self, timeout: Duration) -> anyhow::Result<Vec<Outcome>> {
        let consumer = self.consumer();
        let first = match tokio::time::timeout(timeout, consumer.recv()).await {
            Err(_elapsed) => return Ok(Vec::new()),
            Ok(received) => received?,
        };
        let messages = self.take_waiting(&consumer, first);
        Ok(self.handle_lanes(&consumer, messages).await)
    }

    /// `first` and the messages already received behind it, without waiting for more.
    fn take_waiting<'c>(
        &self,
        consumer: &'c StreamConsumer,
        first: BorrowedMessage<'c>,
    ) -> Vec<BorrowedMessage<'c>> {
        let mut messages = vec![first];
        while messages.len() < self.max_batch {
            match consumer.recv().now_or_never() {
                Some(Ok(message)) => messages.push(message),
                // Nothing buffered (or an error, which the next receive reports).
                Some(Err(_)) | None => break,
            }
        }
        messages
    }

    /// Consumes until `shutdown` completes, looking after its own liveness (see the
    /// [`watchdog`]). Messages being handled when `shutdown` completes are abandoned
    /// uncommitted and will be redelivered.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let interval = self.watchdog.lock().await.interval();
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let consumer = self.consumer();
            let look = tokio::select! {
                _ = &mut shutdown => return,
                _ = ticks.tick() => true,
                received = consumer.recv() => {
                    match received {
                        Ok(first) => {
                            let messages = self.take_waiting(&consumer, first);
                            tokio::select! {
                                _ = &mut shutdown => return,
                                _ = self.handle_lanes(&consumer, messages) => {}
                            }
                        }
                        Err(error) => {
                            tracing::warn!(consumer = %self.name, %error, "consumer error");
                            tokio::time::sleep(Duration::from_millis(500)).await;
                        }
                    }
                    false
                }
            };
            drop(consumer);
            if look {
                self.look_after_liveness().await;
            }
        }
    }

    /// One look of the watchdog; rebuilds the consumer when it is stalled.
    async fn look_after_liveness(&self) {
        let mut watchdog = self.watchdog.lock().await;
        let verdict = watchdog.look(self.handled.load(Ordering::Relaxed)).await;
        let gauge = self.stall_gauge("no_progress");
        match verdict {
            Verdict::Healthy => {
                gauge.set(0.0);
                self.stalls.clear(&self.stall_name);
            }
            Verdict::Waiting { for_, .. } => gauge.set(for_.as_secs_f64()),
            Verdict::Stalled { lag, for_ } => {
                gauge.set(for_.as_secs_f64());
                let waiting = match lag {
                    Some(lag) => format!("{lag} message(s) waiting"),
                    None => "the group's offsets unreadable".to_owned(),
                };
                let reason = format!(
                    "no progress for {}s with {waiting}; consumer rebuilt",
                    for_.as_secs()
                );
                tracing::warn!(consumer = %self.name, ?lag, ?for_, "consumer stalled; rebuilding it");
                self.stalls.set(&self.stall_name, reason);
                metrics::counter!("inbox_consumer_rebuilds_total", "consumer" => self.name.clone())
                    .increment(1);
                if let Err(error) = self.rebuild().await {
                    tracing::error!(consumer = %self.name, error = format!("{error:#}"), "rebuilding the consumer failed");
                }
                watchdog.restart_clock();
            }
        }
    }

    /// Leaves the group with the current consumer and joins with a new one.
    async fn rebuild(&self) -> anyhow::Result<()> {
        // Created unsubscribed: it joins only once the old one has left, so the new
        // generation is made of live members.
        let fresh: StreamConsumer = self
            .member_config
            .create()
            .context("creating the Kafka consumer")?;
        let fresh = Arc::new(fresh);
        let old = std::mem::replace(
            &mut *self.consumer.lock().unwrap_or_else(PoisonError::into_inner),
            Arc::clone(&fresh),
        );
        // Dropping the last handle closes the consumer (LeaveGroup), which blocks.
        let closing = tokio::task::spawn_blocking(move || drop(old));
        if tokio::time::timeout(CLOSE_TIMEOUT, closing).await.is_err() {
            tracing::warn!(consumer = %self.name, "the stalled consumer did not close in time");
        }
        attach(&fresh, &self.subscribed, self.assignment)
    }

    /// `inbox_stall_seconds{consumer, reason}`: how long the current stall has lasted.
    fn stall_gauge(&self, reason: &'static str) -> metrics::Gauge {
        metrics::gauge!("inbox_stall_seconds", "consumer" => self.name.clone(), "reason" => reason)
    }

    async fn handle_message(
        &self,
        consumer: &StreamConsumer,
        message: &BorrowedMessage<'_>,
    ) -> Outcome {
        let outcome = match decode_envelope(message) {
            Err(error) => {
                self.dead_letter(message, &error).await;
                Outcome::DeadLettered
            }
            Ok(event) => self.apply_until_done(message, &event).await,
        };
        self.count(message, outcome);
        if let Err(error) = consumer.commit_message(message, CommitMode::Async) {
            // The effect is committed; a lost offset commit only means a redelivery
            // that dedupe absorbs.
            tracing::warn!(consumer = %self.name, %error, "offset commit failed");
        }
        self.handled.fetch_add(1, Ordering::Relaxed);
        outcome
    }

    /// `inbox_messages_total{consumer, topic, outcome}`.
    fn count(&self, message: &BorrowedMessage<'_>, outcome: Outcome) {
        metrics::counter!(
            "inbox_messages_total",
            "consumer" => self.name.clone(),
            "topic" => message.topic().to_owned(),
            "outcome" => outcome.label()
        )
        .increment(1);
    }

    async fn dead_letter(&self, message: &BorrowedMessage<'_>, error: &str) {
        let target = dlq::Target {
            topic: &self.dlq_topic,
            brokers: &self.brokers,
            consumer: &self.name,
        };
        dlq::dead_letter(&self.dlq, target, message, error).await;
    }
}

fn decode_envelope(message: &BorrowedMessage<'_>) -> Result<Envelope, String> {
    let payload = message
        .payload()
        .ok_or_else(|| "message has no value".to_owned())?;
    serde_json::from_slice(payload).map_err(|e| format!("undecodable envelope: {e}"))
}
