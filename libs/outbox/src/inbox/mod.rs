//! The inbox consumer runtime: an idempotent Kafka consumer.
//!
//! For each message, in partition order: decode the envelope, then in ONE
//! database transaction insert `(consumer, event id)` into `processed_messages`
//! (a conflict means the message was applied before: skip the effect), run the
//! topic's [`Handler`] (effect + reply events in the outbox), commit; only then
//! commit the Kafka offset. A crash anywhere before the offset commit redelivers
//! the message, and the processed row makes the redelivery a no-op.
//!
//! Failures: an undecodable message or a [`HandlerError::Permanent`] goes to the
//! dead-letter topic at once; a [`HandlerError::Transient`] is retried with
//! exponential backoff and dead-lettered after the last attempt; an unreachable
//! database is waited out (the message is fine, the database is not). Messages
//! are processed one at a time, so a partition's order always holds.

pub mod dlq;
pub mod handler;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use backon::{BackoffBuilder, ExponentialBuilder};
use diesel::prelude::*;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::producer::FutureProducer;

pub use handler::{decode, Handler, HandlerError};

use crate::envelope::Envelope;
use crate::schema::processed_messages;
use crate::{kafka, topics};

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

/// Builds an [`Inbox`]: which topics, which handlers, how patient.
pub struct InboxBuilder {
    name: String,
    brokers: String,
    handlers: HashMap<String, Arc<dyn Handler>>,
    max_attempts: usize,
    first_retry: Duration,
    dlq_topic: String,
}

impl InboxBuilder {
    /// Dead-letter topic (default [`topics::DLQ`]; tests give it their prefix).
    pub fn dlq_topic(mut self, topic: impl Into<String>) -> Self {
        self.dlq_topic = topic.into();
        self
    }

    /// Handles `topic` with `handler`.
    pub fn handle(mut self, topic: &str, handler: impl Handler) -> Self {
        self.handlers.insert(topic.to_owned(), Arc::new(handler));
        self
    }

    /// Attempts for a transiently failing message before it is dead-lettered (default 5).
    pub fn max_attempts(mut self, attempts: usize) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Delay before the first retry; it doubles up to 5 s (default 100 ms).
    pub fn first_retry(mut self, delay: Duration) -> Self {
        self.first_retry = delay;
        self
    }

    /// Ensures the topics exist, joins the consumer group and subscribes.
    pub async fn build(self, pool: Pool<AsyncPgConnection>) -> anyhow::Result<Inbox> {
        let mut wanted: Vec<&str> = self.handlers.keys().map(String::as_str).collect();
        wanted.push(&self.dlq_topic);
        topics::ensure(&self.brokers, &wanted).await?;
        let consumer: StreamConsumer = kafka::consumer_config(&self.brokers, &self.name)
            .create()
            .context("creating the Kafka consumer")?;
        let subscribed: Vec<&str> = self.handlers.keys().map(String::as_str).collect();
        consumer.subscribe(&subscribed).context("subscribing")?;
        let dlq: FutureProducer = kafka::dlq_producer_config(&self.brokers)
            .create()
            .context("creating the DLQ producer")?;
        Ok(Inbox {
            name: self.name,
            brokers: self.brokers,
            handlers: self.handlers,
            max_attempts: self.max_attempts,
            first_retry: self.first_retry,
            dlq_topic: self.dlq_topic,
            pool,
            consumer,
            dlq,
        })
    }
}

/// An idempotent consumer bound to a consumer group and a service database.
pub struct Inbox {
    name: String,
    brokers: String,
    handlers: HashMap<String, Arc<dyn Handler>>,
    max_attempts: usize,
    first_retry: Duration,
    dlq_topic: String,
    pool: Pool<AsyncPgConnection>,
    consumer: StreamConsumer,
    dlq: FutureProducer,
}

/// Why applying a message failed, once classified.
enum Failure {
    Retry(String),
    DeadLetter(String),
    Wait(String),
}

impl Inbox {
    /// Starts building the inbox of consumer group `name` (also the dedupe scope).
    pub fn builder(name: &str, brokers: &str) -> InboxBuilder {
        InboxBuilder {
            name: name.to_owned(),
            brokers: brokers.to_owned(),
            handlers: HashMap::new(),
            max_attempts: 5,
            first_retry: Duration::from_millis(100),
            dlq_topic: topics::DLQ.to_owned(),
        }
    }

    /// Receives and fully handles at most one message; `None` when none arrived
    /// within `timeout`. Tests use it to drain deterministically.
    pub async fn poll_once(&self, timeout: Duration) -> anyhow::Result<Option<Outcome>> {
        match tokio::time::timeout(timeout, self.consumer.recv()).await {
            Err(_elapsed) => Ok(None),
            Ok(Err(error)) => Err(error.into()),
            Ok(Ok(message)) => Ok(Some(self.handle_message(&message).await)),
        }
    }

    /// Consumes until `shutdown` completes. A message being handled when it does
    /// is abandoned uncommitted and will be redelivered.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let received = tokio::select! {
                _ = &mut shutdown => return,
                received = self.consumer.recv() => received,
            };
            match received {
                Ok(message) => tokio::select! {
                    _ = &mut shutdown => return,
                    _ = self.handle_message(&message) => {}
                },
                Err(error) => {
                    tracing::warn!(consumer = %self.name, %error, "consumer error");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }

    async fn handle_message(&self, message: &BorrowedMessage<'_>) -> Outcome {
        let outcome = match decode_envelope(message) {
            Err(error) => {
                self.dead_letter(message, &error).await;
                Outcome::DeadLettered
            }
            Ok(event) => self.apply_with_retries(message, &event).await,
        };
        metrics::counter!(
            "inbox_messages_total",
            "consumer" => self.name.clone(),
            "topic" => message.topic().to_owned(),
            "outcome" => outcome.label()
        )
        .increment(1);
        if let Err(error) = self.consumer.commit_message(message, CommitMode::Async) {
            // The effect is committed; a lost offset commit only means a redelivery
            // that dedupe absorbs.
            tracing::warn!(consumer = %self.name, %error, "offset commit failed");
        }
        outcome
    }

    async fn apply_with_retries(&self, message: &BorrowedMessage<'_>, event: &Envelope) -> Outcome {
        let span = tracing::info_span!(
            "inbox",
            consumer = %self.name,
            topic = message.topic(),
            event_type = %event.event_type,
            event_id = %event.id,
            correlation_id = %event.correlation_id,
        );
        let _entered = span.enter();
        let mut retries = ExponentialBuilder::default()
            .with_min_delay(self.first_retry)
            .with_max_delay(Duration::from_secs(5))
            .with_max_times(self.max_attempts - 1)
            .build();
        let mut waits = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(200))
            .with_max_delay(Duration::from_secs(5))
            .without_max_times()
            .build();
        loop {
            let failure = match self.apply(message.topic(), event).await {
                Ok(outcome) => return outcome,
                Err(failure) => failure,
            };
            let delay = match failure {
                Failure::DeadLetter(error) => {
                    self.dead_letter(message, &error).await;
                    return Outcome::DeadLettered;
                }
                Failure::Retry(error) => match retries.next() {
                    Some(delay) => {
                        tracing::warn!(%error, ?delay, "handler failed; retrying");
                        delay
                    }
                    None => {
                        let error =
                            format!("gave up after {} attempts: {error}", self.max_attempts);
                        self.dead_letter(message, &error).await;
                        return Outcome::DeadLettered;
                    }
                },
                Failure::Wait(error) => {
                    let delay = waits.next().unwrap_or(Duration::from_secs(5));
                    tracing::warn!(%error, ?delay, "database unavailable; waiting");
                    delay
                }
            };
            tokio::time::sleep(delay).await;
        }
    }

    /// Dedupe row + effect in one transaction.
    async fn apply(&self, topic: &str, event: &Envelope) -> Result<Outcome, Failure> {
        let Some(handler) = self.handlers.get(topic) else {
            return Err(Failure::DeadLetter(format!("no handler for topic {topic}")));
        };
        let mut conn = self
            .pool
            .get()
            .await
            .map_err(|e| Failure::Wait(e.to_string()))?;
        let consumer = self.name.as_str();
        let result = conn
            .transaction::<_, HandlerError, _>(async move |conn| {
                let fresh = diesel::insert_into(processed_messages::table)
                    .values((
                        processed_messages::consumer.eq(consumer),
                        processed_messages::event_id.eq(event.id),
                        processed_messages::topic.eq(topic),
                    ))
                    .on_conflict_do_nothing()
                    .execute(conn)
                    .await?;
                if fresh == 0 {
                    return Ok(Outcome::Duplicate);
                }
                handler.handle(event, conn).await?;
                Ok(Outcome::Processed)
            })
            .await;
        result.map_err(|error| match error {
            HandlerError::Permanent(e) => Failure::DeadLetter(format!("{e:#}")),
            HandlerError::Transient(e) => Failure::Retry(format!("{e:#}")),
            HandlerError::Unavailable(e) => Failure::Wait(format!("{e:#}")),
        })
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
