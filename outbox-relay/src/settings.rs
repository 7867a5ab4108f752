//! Settings of the relay: its HTTP port, the broker, tuning, and its sources.

use std::collections::BTreeMap;
use std::time::Duration;

use comanda_kit::settings::{default_env, HttpSettings, KafkaSettings};
use comanda_outbox::relay::{DeadPeerDetection, RelayConfig};
use comanda_outbox::topics;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::dlq_watch::DlqWatch;

/// Embedded defaults (see `config/default.toml`).
pub const DEFAULTS: &str = include_str!("../config/default.toml");

/// Everything the relay reads at start-up.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// Deployment environment (`dev`, `test`, `prod`), a log label; an unknown name
    /// refuses to load.
    #[serde(default = "default_env")]
    pub env: comanda_kit::settings::Env,
    /// Where `/health`, `/ready` and `/metrics` are served.
    pub http: HttpSettings,
    /// The broker to publish to.
    pub kafka: KafkaSettings,
    /// Batch size, polling and retention.
    pub relay: Tuning,
    /// Service databases to relay, by name (the name labels logs and metrics).
    #[serde(default)]
    pub sources: BTreeMap<String, SourceSettings>,
}

/// One service database.
#[derive(Debug, Clone, Deserialize)]
pub struct SourceSettings {
    /// Postgres URL (secret: it may carry a password).
    pub url: SecretString,
    /// The Kafka user this source's rows are published as: the service's own, so the
    /// broker's ACLs let them reach only that service's topics (docs/events.md, "Trust
    /// model"). Empty: the relay's own `kafka` settings (tansu, the tests).
    #[serde(default)]
    pub sasl_username: String,
    /// That user's password.
    #[serde(default)]
    pub sasl_password: Option<SecretString>,
}

/// How the relay batches, polls and cleans up.
#[derive(Debug, Clone, Deserialize)]
pub struct Tuning {
    /// Rows per batch.
    pub batch_size: i64,
    /// Fallback poll when no NOTIFY arrives, in ms.
    pub poll_interval_ms: u64,
    /// Wake on `NOTIFY outbox`; turn off behind poolers that cannot LISTEN.
    pub listen: bool,
    /// How often a standby retries for leadership, in ms.
    pub standby_poll_ms: u64,
    /// Silence on a source session before the first TCP keepalive probe, in ms
    /// (whole seconds on the Postgres side); see [`DeadPeerDetection`].
    #[serde(default = "default_keepalive_idle_ms")]
    pub keepalive_idle_ms: u64,
    /// Time between keepalive probes, in ms.
    #[serde(default = "default_keepalive_interval_ms")]
    pub keepalive_interval_ms: u64,
    /// Unanswered keepalive probes after which a source session is dropped.
    #[serde(default = "default_keepalive_retries")]
    pub keepalive_retries: u32,
    /// How long sent data or probes may go unacknowledged before a source session is
    /// dropped, in ms. With the keepalives it bounds how long the backend of a
    /// leader whose host vanished keeps the leader lock.
    #[serde(default = "default_tcp_user_timeout_ms")]
    pub tcp_user_timeout_ms: u64,
    /// How often the backlog gauges refresh, in ms.
    pub housekeeping_interval_ms: u64,
    /// How often retention deletes old rows, in ms.
    pub retention_interval_ms: u64,
    /// Age after which published outbox rows are deleted, in seconds.
    pub published_retention_secs: u64,
    /// Age after which processed-message rows are deleted, in seconds: longer than a
    /// message can be redelivered (the broker's retention) or arrive very late.
    pub processed_retention_secs: u64,
    /// The old spelling, in hours: refused with a message naming the new keys, so an
    /// operator's retention is never silently replaced by the default.
    #[serde(default)]
    published_retention_hours: Option<u64>,
    /// As `published_retention_hours`.
    #[serde(default)]
    processed_retention_hours: Option<u64>,
    /// Name of this instance (Postgres `application_name`); defaults to one with the pid.
    #[serde(default)]
    pub instance: Option<String>,
    /// How often the DLQ gauges re-read the dead-letter topic, in ms.
    #[serde(default = "default_dlq_watch_interval_ms")]
    pub dlq_watch_interval_ms: u64,
}

fn default_dlq_watch_interval_ms() -> u64 {
    5000
}

fn default_keepalive_idle_ms() -> u64 {
    millis(DeadPeerDetection::default().keepalive_idle)
}

fn default_keepalive_interval_ms() -> u64 {
    millis(DeadPeerDetection::default().keepalive_interval)
}

fn default_keepalive_retries() -> u32 {
    DeadPeerDetection::default().keepalive_retries
}

fn default_tcp_user_timeout_ms() -> u64 {
    millis(DeadPeerDetection::default().tcp_user_timeout)
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl Settings {
    /// Loads defaults → `COMANDA_CONFIG` file → `COMANDA__*` environment.
    pub fn load() -> anyhow::Result<Self> {
        Self::load_over(DEFAULTS)
    }

    /// As [`Settings::load`], over `defaults_toml` instead of the embedded defaults.
    pub fn load_over(defaults_toml: &str) -> anyhow::Result<Self> {
        let settings: Self = comanda_kit::settings::load(defaults_toml)?;
        if settings.relay.published_retention_hours.is_some()
            || settings.relay.processed_retention_hours.is_some()
        {
            anyhow::bail!(
                "relay.published_retention_hours and relay.processed_retention_hours are now \
                 relay.published_retention_secs and relay.processed_retention_secs \
                 (COMANDA__RELAY__PUBLISHED_RETENTION_SECS, ..._PROCESSED_RETENTION_SECS)"
            );
        }
        if settings.sources.is_empty() {
            anyhow::bail!(
                "no sources configured: set COMANDA__SOURCES__<NAME>__URL for each service database"
            );
        }
        Ok(settings)
    }

    /// What the DLQ watcher reads: the services' DLQ topic (same prefix as theirs).
    pub fn dlq_watch(&self) -> DlqWatch {
        DlqWatch {
            brokers: self.kafka.brokers.clone(),
            security: self.kafka.security(),
            topic: self.kafka.topic(topics::DLQ),
            every: Duration::from_millis(self.relay.dlq_watch_interval_ms.max(100)),
        }
    }

    /// The engine configuration of each source.
    pub fn relay_configs(&self) -> Vec<RelayConfig> {
        self.sources
            .iter()
            .map(|(name, source)| {
                let mut config =
                    RelayConfig::new(name, source.url.expose_secret(), &self.kafka.brokers);
                config.security = if source.sasl_username.is_empty() {
                    self.kafka.security()
                } else {
                    let password = source.sasl_password.clone();
                    self.kafka
                        .security()
                        .as_user(&source.sasl_username, password)
                };
                if let Some(instance) = &self.relay.instance {
                    config.instance = instance.clone();
                }
                config.batch_size = self.relay.batch_size.max(1);
                config.poll_interval = Duration::from_millis(self.relay.poll_interval_ms);
                config.listen = self.relay.listen;
                config.standby_poll = Duration::from_millis(self.relay.standby_poll_ms);
                config.durability = (&self.kafka).into();
                config.dead_peer = DeadPeerDetection {
                    keepalive_idle: Duration::from_millis(self.relay.keepalive_idle_ms),
                    keepalive_interval: Duration::from_millis(self.relay.keepalive_interval_ms),
                    keepalive_retries: self.relay.keepalive_retries,
                    tcp_user_timeout: Duration::from_millis(self.relay.tcp_user_timeout_ms),
                };
                config.housekeeping_every =
                    Duration::from_millis(self.relay.housekeeping_interval_ms);
                config.retention_every = Duration::from_millis(self.relay.retention_interval_ms);
                config.published_retention =
                    Duration::from_secs(self.relay.published_retention_secs);
                config.processed_retention =
                    Duration::from_secs(self.relay.processed_retention_secs);
                config
            })
            .collect()
    }
}
