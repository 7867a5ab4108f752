//! The relay engine: moves committed outbox rows of one source database to Kafka.
//!
//! Per source exactly one relay instance publishes: the one whose session holds
//! the source's advisory lock ([`source::LEADER_LOCK_KEY`]). Others stand by and
//! retry the lock every [`RelayConfig::standby_poll`], so one takes over within
//! about that long after the publisher dies.
//!
//! The publisher wakes on `NOTIFY outbox` (sent at commit by a trigger), falls back
//! to polling every [`RelayConfig::poll_interval`], claims unpublished rows in id
//! order and marks them published only after the broker acked them. A crash
//! between ack and mark re-sends those rows: delivery is at-least-once and the
//! consumers dedupe. On broker failure the rows simply stay, and the relay backs
//! off and tries again.

pub mod publisher;
pub mod source;

use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};
use tokio_util::sync::CancellationToken;

pub use publisher::{BatchResult, Publisher};
pub use source::{Backlog, DeadPeerDetection, OutboxRow, Source};

use crate::topics;

/// How one source is relayed.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Name of the source, for logs and metric labels (e.g. `order`).
    pub source: String,
    /// Postgres URL of the source database.
    pub database_url: String,
    /// Kafka bootstrap servers.
    pub brokers: String,
    /// How the producer signs in: as the source's own Kafka user, so the broker's ACLs
    /// let this source's rows reach only its own topics (docs/events.md, "Trust model").
    pub security: comanda_kit::settings::KafkaSecurity,
    /// Name of this relay instance, shown as the session's `application_name`.
    pub instance: String,
    /// Rows claimed per batch.
    pub batch_size: i64,
    /// Fallback poll when no notification arrives.
    pub poll_interval: Duration,
    /// Wake on `NOTIFY outbox` (true) or only poll (false: for connection poolers
    /// that cannot LISTEN, and as the benchmark's baseline).
    pub listen: bool,
    /// How often a standby retries the lock.
    pub standby_poll: Duration,
    /// How soon both ends of the source session give up on a silent peer: bounds
    /// how long the backend of a leader whose host vanished keeps the lock (~8 s
    /// by default, so a standby leads within about that plus `standby_poll`).
    pub dead_peer: DeadPeerDetection,
    /// How durable the topics the relay (re-)creates are (see [`topics::Durability`]).
    pub durability: topics::Durability,
    /// Published outbox rows older than this are deleted.
    pub published_retention: Duration,
    /// Processed-message rows older than this are deleted. Must exceed the longest
    /// time a message can be redelivered (the broker's retention), or a very late
    /// duplicate would be applied again.
    pub processed_retention: Duration,
    /// How often the backlog gauges refresh.
    pub housekeeping_every: Duration,
    /// How often retention deletes old rows.
    pub retention_every: Duration,
    /// How long a batch may wait for its acks before it fails (what is not acked by
    /// then is purged and sent again; see [`crate::kafka::relay_producer_config`]).
    pub send_timeout: Duration,
}

impl RelayConfig {
    /// Defaults for a source: batches of 500, 1 s fallback poll and standby
    /// retry, 7 days of published rows, 30 days of processed-message rows.
    pub fn new(source: &str, database_url: &str, brokers: &str) -> Self {
        Self {
            source: source.to_owned(),
            database_url: database_url.to_owned(),
            brokers: brokers.to_owned(),
            security: comanda_kit::settings::KafkaSecurity::default(),
            instance: format!("outbox-relay-{}", std::process::id()),
            batch_size: 500,
            poll_interval: Duration::from_secs(1),
            listen: true,
            standby_poll: Duration::from_secs(1),
            dead_peer: DeadPeerDetection::default(),
            durability: topics::Durability::default(),
            published_retention: Duration::from_secs(7 * 24 * 3600),
            processed_retention: Duration::from_secs(30 * 24 * 3600),
            housekeeping_every: Duration::from_secs(5),
            retention_every: Duration::from_secs(600),
            send_timeout: Duration::from_secs(15),
        }
    }
}

/// Batches a leader publishes in a row before it checks for shutdown and
/// housekeeping again.
const BATCHES_BETWEEN_CHECKS: usize = 20;

/// A relay bound to one source: a database session and a producer.
pub struct Relay {
    config: RelayConfig,
    source: Source,
    publisher: Publisher,
}

impl Relay {
    /// Connects to the source and creates the producer. Topics of the catalogue
    /// are ensured here because a restarted broker may have forgotten them.
    pub async fn connect(config: RelayConfig) -> anyhow::Result<Self> {
        let source = Source::connect_with(
            &config.database_url,
            &config.instance,
            config.listen,
            &config.dead_peer,
        )
        .await?;
        let publisher = Publisher::secured(&config.brokers, &config.security, config.send_timeout)?;
        if let Err(error) = topics::ensure_secured(
            &config.brokers,
            &config.security,
            topics::ALL,
            config.durability,
        )
        .await
        {
            tracing::warn!(%error, "could not ensure topics; will retry on demand");
        }
        Ok(Self {
            config,
            source,
            publisher,
        })
    }

    /// Tries to become the source's publisher.
    pub async fn try_lead(&self) -> anyhow::Result<bool> {
        self.source.try_lead().await
    }

    /// Publishes one batch (the oldest unpublished rows); returns how many rows
    /// were marked published.
    ///
    /// Callers must hold leadership ([`Relay::try_lead`]). An error means the batch
    /// (or its tail) stays unpublished and will be sent again.
    pub async fn step(&mut self) -> anyhow::Result<usize> {
        let rows = self.source.claim(&[], self.config.batch_size).await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let result = self.publisher.send(&rows).await;
        self.source.mark_published(&result.acked).await?;
        self.settle(&rows, result).await
    }

    /// Publishes until no row is left (or a batch fails); returns rows published.
    ///
    /// Database work overlaps the wait for acks: while batch N is in flight, batch
    /// N-1 is marked published and batch N+1 is claimed. Batches are still *sent*
    /// strictly one after another, each only after the previous one was fully
    /// acked. Batch N+1 is claimed from the oldest unpublished row, leaving out
    /// batches N-1 and N (see [`Source::claim`]): a row committed late with a lower id
    /// than batch N's goes out in N+1, ahead of any later row of its key, so per-key
    /// order is commit order, as with [`Relay::step`].
    pub async fn drain(&mut self) -> anyhow::Result<usize> {
        let mut published = 0;
        loop {
            let (n, more) = self.drain_some(usize::MAX).await?;
            published += n;
            if !more {
                return Ok(published);
            }
        }
    }

    /// [`Relay::drain`] for at most `max_batches` batches, so a long backlog still
    /// lets the caller look up for shutdown and housekeeping. Returns rows
    /// published and whether rows may be left.
    async fn drain_some(&mut self, max_batches: usize) -> anyhow::Result<(usize, bool)> {
        let limit = self.config.batch_size;
        let mut published = 0;
        let mut unmarked: Vec<i64> = Vec::new();
        let mut batch = self.source.claim(&[], limit).await?;
        let mut batches = 0;
        while !batch.is_empty() && batches < max_batches {
            batches += 1;
            let in_flight: Vec<i64> = unmarked
                .iter()
                .copied()
                .chain(batch.iter().map(|row| row.id))
                .collect();
            let (source, publisher) = (&self.source, &mut self.publisher);
            let (result, marked, next) = tokio::join!(
                publisher.send(&batch),
                source.mark_published(&unmarked),
                source.claim(&in_flight, limit),
            );
            marked?;
            published += unmarked.len();
            if result.failure.is_some() {
                self.source.mark_published(&result.acked).await?;
                return self
                    .settle(&batch, result)
                    .await
                    .map(|n| (published + n, true));
            }
            unmarked = result.acked.clone();
            self.settle(&batch, result).await?;
            batch = next?;
        }
        self.source.mark_published(&unmarked).await?;
        Ok((published + unmarked.len(), !batch.is_empty()))
    }

    /// Records a sent batch; on failure prepares the retry and returns the error.
    async fn settle(&mut self, rows: &[OutboxRow], result: BatchResult) -> anyhow::Result<usize> {
        record_published(&self.config.source, &result);
        let Some(error) = result.failure else {
            return Ok(result.acked.len());
        };
        // A broker that restarted with empty storage has no topics; the failure
        // code varies (unknown topic, timeout), so re-create the batch's topics
        // after any failure: it is idempotent and cheap.
        let wanted: Vec<&str> = rows.iter().map(|r| r.topic.as_str()).collect();
        if let Err(e) = topics::ensure_secured(
            &self.config.brokers,
            &self.config.security,
            &dedup(wanted),
            self.config.durability,
        )
        .await
        {
            tracing::debug!(error = %e, "could not ensure the batch's topics");
        }
        self.publisher.reset()?;
        anyhow::bail!(
            "published {} of {} rows, then the broker failed: {error}",
            result.acked.len(),
            rows.len()
        )
    }

    /// Current backlog of the source.
    pub async fn backlog(&self) -> anyhow::Result<Backlog> {
        self.source.backlog().await
    }

    /// Publishes as leader until `shutdown` or until the source session is lost.
    async fn publish_while_leading(&mut self, shutdown: &CancellationToken) -> anyhow::Result<()> {
        let label = self.config.source.clone();
        metrics::gauge!("outbox_relay_leader", "source" => label.clone()).set(1.0);
        tracing::info!(source = %label, instance = %self.config.instance, "leading: publishing this source");
        let mut failures = backoff();
        let mut housekeeping = Instant::now() - self.config.housekeeping_every;
        let mut retention = Instant::now() - self.config.retention_every;
        while !shutdown.is_cancelled() {
            if housekeeping.elapsed() >= self.config.housekeeping_every {
                self.refresh_gauges().await?;
                housekeeping = Instant::now();
            }
            if retention.elapsed() >= self.config.retention_every {
                self.apply_retention().await?;
                retention = Instant::now();
            }
            match self.drain_some(BATCHES_BETWEEN_CHECKS).await {
                Ok((_, true)) => failures = backoff(),
                Ok((_, false)) => {
                    failures = backoff();
                    tokio::select! {
                        _ = shutdown.cancelled() => {}
                        _ = self.source.wait_for_inserts(self.next_wake(housekeeping)) => {}
                    }
                }
                Err(error) if self.source.is_closed() => return Err(error),
                Err(error) => {
                    let delay = failures.next().unwrap_or(Duration::from_secs(5));
                    tracing::warn!(source = %label, error = format!("{error:#}"), ?delay, "publish failed; rows kept, retrying");
                    tokio::select! {
                        _ = shutdown.cancelled() => {}
                        _ = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
        self.publisher.flush(Duration::from_secs(5));
        Ok(())
    }

    /// How long an idle leader sleeps: until the fallback poll or the next
    /// housekeeping, whichever comes first (so the gauges stay fresh when idle).
    fn next_wake(&self, last_housekeeping: Instant) -> Duration {
        let until_housekeeping = self
            .config
            .housekeeping_every
            .saturating_sub(last_housekeeping.elapsed());
        self.config.poll_interval.min(until_housekeeping)
    }

    async fn refresh_gauges(&self) -> anyhow::Result<()> {
        let backlog = self.source.backlog().await?;
        let label = self.config.source.clone();
        metrics::gauge!("outbox_relay_backlog", "source" => label.clone()).set(backlog.rows as f64);
        metrics::gauge!("outbox_relay_oldest_unpublished_age_seconds", "source" => label)
            .set(backlog.oldest_age_seconds);
        Ok(())
    }

    async fn apply_retention(&self) -> anyhow::Result<()> {
        let label = &self.config.source;
        let (outbox, inbox) = self
            .source
            .apply_retention(
                self.config.published_retention,
                self.config.processed_retention,
            )
            .await?;
        if outbox + inbox > 0 {
            tracing::info!(source = %label, outbox, inbox, "retention deleted old rows");
        }
        Ok(())
    }
}

/// Relays one source until `shutdown`: connect, wait for leadership, publish;
/// on a lost session start over after a backoff. Never returns an error: a relay
/// must outlive database and broker outages.
pub async fn run(config: RelayConfig, shutdown: CancellationToken) {
    let mut reconnects = backoff();
    while !shutdown.is_cancelled() {
        let started = Instant::now();
        let outcome = async {
            let mut relay = Relay::connect(config.clone()).await?;
            loop {
                if shutdown.is_cancelled() {
                    return Ok(());
                }
                if relay.try_lead().await? {
                    return relay.publish_while_leading(&shutdown).await;
                }
                tokio::select! {
                    _ = shutdown.cancelled() => return Ok(()),
                    _ = tokio::time::sleep(config.standby_poll) => {}
                }
            }
        }
        .await;
        metrics::gauge!("outbox_relay_leader", "source" => config.source.clone()).set(0.0);
        if let Err(error) = outcome {
            // A session that worked for a while starts the backoff afresh; one
            // that fails at once (a source not migrated yet) backs off further.
            if started.elapsed() > Duration::from_secs(30) {
                reconnects = backoff();
            }
            let delay = reconnects.next().unwrap_or(Duration::from_secs(5));
            tracing::warn!(source = %config.source, error = format!("{error:#}"), ?delay, "relay lost its source; reconnecting");
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = tokio::time::sleep(delay) => {}
            }
        }
    }
}

/// Exponential backoff from 100 ms to 5 s with jitter, never giving up.
fn backoff() -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(100))
        .with_max_delay(Duration::from_secs(5))
        .with_jitter()
        .without_max_times()
        .build()
}

fn record_published(source: &str, result: &BatchResult) {
    metrics::counter!("outbox_relay_published_total", "source" => source.to_owned())
        .increment(result.acked.len() as u64);
    let histogram =
        metrics::histogram!("outbox_relay_publish_latency_seconds", "source" => source.to_owned());
    for latency in &result.latencies {
        histogram.record(*latency);
    }
}

fn dedup(mut topics: Vec<&str>) -> Vec<&str> {
    topics.sort_unstable();
    topics.dedup();
    topics
}
