//! [`InboxBuilder`]: which topics, which handlers, how patient; `build` attaches the
//! consumer and makes the [`Inbox`].

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use comanda_kit::settings::Assignment;
use comanda_kit::stalls::Stalls;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::AsyncPgConnection;
use rdkafka::consumer::{BaseConsumer, StreamConsumer};
use rdkafka::producer::FutureProducer;
use rdkafka::ClientConfig;

use super::watchdog::Watchdog;
use super::{attach, Handler, Inbox};
use comanda_kit::settings::KafkaSecurity;

use crate::{kafka, topics};

/// Builds an [`Inbox`]: which topics, which handlers, how patient.
pub struct InboxBuilder {
    name: String,
    brokers: String,
    handlers: HashMap<String, Arc<dyn Handler>>,
    first_retry: Duration,
    max_retry_delay: Duration,
    stall_timeout: Duration,
    dlq_topic: String,
    stalls: Stalls,
    instance_id: Option<String>,
    assignment: Assignment,
    durability: topics::Durability,
    fetch_wait: Option<Duration>,
    security: KafkaSecurity,
    max_batch: usize,
    lanes: usize,
    lanes_limit: Option<usize>,
}

impl InboxBuilder {
    /// A builder with every knob at its default (see [`Inbox::builder`]).
    pub(super) fn new(name: &str, brokers: &str) -> Self {
        Self {
            name: name.to_owned(),
            brokers: brokers.to_owned(),
            handlers: HashMap::new(),
            first_retry: Duration::from_millis(100),
            max_retry_delay: Duration::from_secs(5),
            stall_timeout: super::DEFAULT_STALL_TIMEOUT,
            dlq_topic: topics::DLQ.to_owned(),
            stalls: Stalls::new(),
            instance_id: None,
            assignment: Assignment::Group,
            durability: topics::Durability::default(),
            fetch_wait: None,
            security: KafkaSecurity::default(),
            max_batch: super::DEFAULT_MAX_BATCH,
            lanes: 1,
            lanes_limit: None,
        }
    }

    /// How its Kafka clients sign in (default: not at all).
    pub fn security(mut self, security: KafkaSecurity) -> Self {
        self.security = security;
        self
    }

    /// How durable the topics this inbox creates are (default: one broker).
    pub fn durability(mut self, durability: topics::Durability) -> Self {
        self.durability = durability;
        self
    }

    /// How long the broker may hold a fetch that finds no data (`fetch.wait.max.ms`;
    /// default librdkafka's 500 ms). See `KafkaSettings::fetch_wait_max_ms`.
    pub fn fetch_wait(mut self, wait: Duration) -> Self {
        self.fetch_wait = Some(wait);
        self
    }

    /// Most messages applied in one transaction (default [`super::DEFAULT_MAX_BATCH`];
    /// 1: every message alone). Only messages already waiting form a batch (see
    /// [`super::batch`]); a larger cap means fewer commits under load and longer
    /// transactions holding their row locks.
    pub fn max_batch(mut self, max: usize) -> Self {
        self.max_batch = max.max(1);
        self
    }

    /// Applies the partitions received at once in up to `lanes` transactions side by
    /// side, one per partition number (default 1: one after the other). Only for an
    /// inbox whose handlers lock nothing but the rows of the message's own key (see
    /// [`super::lanes`]); at most [`topics::PARTITIONS`] lanes are ever busy.
    pub fn lanes(mut self, lanes: usize) -> Self {
        self.lanes = lanes.clamp(1, topics::PARTITIONS.unsigned_abs() as usize);
        self
    }

    /// Caps [`Self::lanes`] at `limit` whatever the service asks (an operator's setting,
    /// `kafka.consumer_lanes`); `None`: no cap.
    pub fn lanes_limit(mut self, limit: Option<usize>) -> Self {
        self.lanes_limit = limit;
        self
    }

    /// How the consumer gets its partitions (default [`Assignment::Group`]).
    pub fn assignment(mut self, assignment: Assignment) -> Self {
        self.assignment = assignment;
        self
    }

    /// Joins the group as the static member `instance` ([`kafka::member_config`]); by
    /// default the inbox is a dynamic member with a new identity on every start.
    pub fn instance_id(mut self, instance: impl Into<String>) -> Self {
        self.instance_id = Some(instance.into());
        self
    }

    /// Where the inbox reports that it is stuck (read by `/ready`).
    pub fn stalls(mut self, stalls: Stalls) -> Self {
        self.stalls = stalls;
        self
    }

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

    /// Delay before the first retry of a failing message (default 100 ms); it doubles
    /// up to [`InboxBuilder::max_retry_delay`].
    pub fn first_retry(mut self, delay: Duration) -> Self {
        self.first_retry = delay;
        self
    }

    /// Longest delay between two retries of a failing message (default 5 s): how soon
    /// after a database recovers the partition moves again.
    pub fn max_retry_delay(mut self, delay: Duration) -> Self {
        self.max_retry_delay = delay;
        self
    }

    /// How long the group may have lag without progress before the consumer is
    /// rebuilt (default [`DEFAULT_STALL_TIMEOUT`]).
    pub fn stall_timeout(mut self, timeout: Duration) -> Self {
        self.stall_timeout = timeout;
        self
    }

    /// Ensures the topics exist and attaches the consumer: joins the group and
    /// subscribes, or assigns itself every partition ([`Assignment::All`]).
    pub async fn build(self, pool: Pool<AsyncPgConnection>) -> anyhow::Result<Inbox> {
        let mut wanted: Vec<&str> = self.handlers.keys().map(String::as_str).collect();
        wanted.push(&self.dlq_topic);
        topics::ensure_secured(&self.brokers, &self.security, &wanted, self.durability).await?;
        let mut subscribed: Vec<String> = self.handlers.keys().cloned().collect();
        subscribed.sort();
        let member_config = self.member_config();
        let consumer: StreamConsumer = member_config
            .create()
            .context("creating the Kafka consumer")?;
        attach(&consumer, &subscribed, self.assignment)?;
        let probe: BaseConsumer = self
            .security
            .apply(&mut kafka::consumer_config(&self.brokers, &self.name))
            .create()
            .context("creating the consumer group probe")?;
        let dlq: FutureProducer = self
            .security
            .apply(&mut kafka::dlq_producer_config(&self.brokers))
            .create()
            .context("creating the DLQ producer")?;
        Ok(Inbox {
            stall_name: format!("inbox:{}", self.name),
            watchdog: tokio::sync::Mutex::new(Watchdog::new(
                probe,
                subscribed.clone(),
                self.stall_timeout,
            )),
            member_config,
            assignment: self.assignment,
            name: self.name,
            brokers: self.brokers,
            handlers: self.handlers,
            subscribed,
            first_retry: self.first_retry,
            max_retry_delay: self.max_retry_delay,
            dlq_topic: self.dlq_topic,
            max_batch: self.max_batch,
            lanes: self
                .lanes
                .min(self.lanes_limit.unwrap_or(usize::MAX))
                .max(1),
            pool,
            consumer: Mutex::new(Arc::new(consumer)),
            dlq,
            stalls: self.stalls,
            handled: AtomicU64::new(0),
        })
    }
}

impl InboxBuilder {
    fn member_config(&self) -> ClientConfig {
        let mut config =
            kafka::member_config(&self.brokers, &self.name, self.instance_id.as_deref());
        if let Some(wait) = self.fetch_wait {
            config.set("fetch.wait.max.ms", wait.as_millis().to_string());
        }
        self.security.apply(&mut config);
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_consumer_gets_the_configured_fetch_wait_and_librdkafkas_default_otherwise() {
        let configured = Inbox::builder("g", "k:9092").fetch_wait(Duration::from_millis(10));
        assert_eq!(
            configured.member_config().get("fetch.wait.max.ms"),
            Some("10")
        );
        let default = Inbox::builder("g", "k:9092");
        assert_eq!(default.member_config().get("fetch.wait.max.ms"), None);
    }
}
