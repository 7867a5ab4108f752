//! Test scaffolding for tests that span services: every test gets its own topic
//! prefix (so tests sharing one broker never see each other's events), its own
//! databases, and in-process relays publishing those databases' outboxes.
//!
//! Use it as a dev-dependency only.
//!
//! # Layout
//! - [`TestEnv`]: prefix, settings for services under test, relays.
//! - [`broker`]: a tansu of the test's own, for tests that pause or kill the broker.
//! - [`ports`]: ports for the processes a test starts, that nobody else is handed.
//! - [`eventually`]: polls a condition until it holds or a deadline passes.
//! - [`env_or`]: a benchmark's knob from the environment.
//! - [`tokens`]: valid access tokens, and the forgeries protected routes must refuse.
//! - [`faults`]: a database turned read-only; the dead-letter topic's size.
//! - [`arbitrary`]: property-test strategies: arbitrary bytes, JSON, near-miss bodies.
//! - [`proc`]: a process's CPU time, for benchmarks.

pub mod arbitrary;
pub mod broker;
pub mod faults;
pub mod ports;
pub mod proc;
pub mod tokens;

use std::future::Future;
use std::time::{Duration, Instant};

use comanda_kit::settings::{Assignment, KafkaSettings, ServiceSettings, TANSU_FETCH_WAIT_MS};
use comanda_kit::workers::Workers;
use comanda_outbox::relay::{self, RelayConfig};
use secrecy::ExposeSecret;

/// One test's slice of the shared broker, and the relays it runs.
pub struct TestEnv {
    /// Prepended to every topic name, e.g. `t3f9c2a1b.`.
    pub prefix: String,
    /// Bootstrap servers of the shared test broker.
    pub brokers: String,
    relays: Option<Workers>,
}

impl TestEnv {
    /// A fresh prefix with every catalogued topic created under it, on the shared
    /// test broker (`KAFKA_BROKERS`).
    pub async fn new() -> Self {
        Self::on(comanda_kit::testing::kafka_brokers()).await
    }

    /// [`TestEnv::new`] on the broker at `brokers`, e.g. a [`broker::PrivateBroker`].
    pub async fn on(brokers: String) -> Self {
        comanda_kit::testing::init_test_logs();
        let prefix = format!("t{}.", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        comanda_outbox::topics::ensure_all(&brokers, &prefix)
            .await
            .expect("creating the test's topics (is the broker running?)");
        Self {
            prefix,
            brokers,
            relays: Some(Workers::new()),
        }
    }

    /// The full name of catalogued topic `name` for this test.
    pub fn topic(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Kafka settings of a service under test: shared broker, this test's prefix.
    pub fn kafka(&self) -> KafkaSettings {
        KafkaSettings {
            ready_check: false,
            topic_prefix: self.prefix.clone(),
            // A stalled group recovers within seconds, not the deployment's 30 s: tests
            // that restart a service must not wait out a long watchdog.
            consumer_stall_timeout_secs: 5,
            // One instance per service, and tansu's group coordinator cannot be
            // trusted with a restarted one (README, "The broker").
            assignment: Assignment::All,
            // tansu holds every fetch for the whole wait (README, "The broker").
            fetch_wait_max_ms: TANSU_FETCH_WAIT_MS,
            ..KafkaSettings::new(self.brokers.clone())
        }
    }

    /// Settings of a service under test: fresh database, port 0, this test's topics.
    pub async fn service_settings(&self, db_prefix: &str) -> ServiceSettings {
        let mut settings = comanda_kit::testing::service_settings(db_prefix).await;
        settings.kafka = self.kafka();
        settings
    }

    /// Starts an in-process relay for the database of `settings` (a service's),
    /// running until this `TestEnv` is dropped.
    pub fn relay(&mut self, name: &str, settings: &ServiceSettings) {
        let mut config =
            RelayConfig::new(name, settings.database.url.expose_secret(), &self.brokers);
        config.instance = format!("test-relay-{name}");
        config.poll_interval = Duration::from_millis(200);
        let relays = self.relays.as_mut().expect("relays live until drop");
        relays.spawn(format!("relay:{name}"), move |token| {
            relay::run(config, token)
        });
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        // Cancel only: the relay tasks end on their own, or with the test's runtime.
        if let Some(relays) = &self.relays {
            relays.cancel();
        }
    }
}

/// Polls `check` every 50 ms until it returns true; panics naming `what` after `within`.
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out after {within:?} waiting until {what}");
}

/// The value of environment variable `name` parsed as a `T`, or `default` when it is
/// unset or does not parse: the knobs of the benchmarks (`BENCH_REQUESTS`, ...).
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
