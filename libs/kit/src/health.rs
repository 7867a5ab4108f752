//! Operational endpoints: `/health` (liveness), `/ready` (readiness), `/metrics`.
//!
//! Liveness says the process serves HTTP and nothing more, so an orchestrator never
//! restarts a service because Postgres is down; readiness checks each configured
//! dependency, so traffic is withheld until they answer. A failed check is named in
//! the body with a stable word (`database: unavailable`); its error text, which can
//! name hosts, ports and roles, goes to the log only. The broker is asked at most once
//! a second, through one client kept for the process.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use actix_web::{web, HttpResponse, ResponseError};
use diesel_async::RunQueryDsl;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;
use serde_json::json;

use crate::db::Pool;
use crate::problem::Problem;
use crate::stalls::Stalls;

/// How long one readiness check may take before it counts as failed.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a broker check's outcome answers `/ready` before the broker is asked again:
/// probes from an orchestrator, a load balancer and a dashboard must not each cost a
/// metadata round trip.
const BROKER_CHECK_TTL: Duration = Duration::from_secs(1);

/// What `/ready` says about a failed dependency check. The body is read by anyone who
/// can reach the port, so it carries only this stable word; the error itself (which
/// may name hosts, ports, roles or databases) goes to the log.
const UNAVAILABLE: &str = "unavailable";

/// What `/ready` says about a stalled background worker; the stall's reason is logged.
const STALLED: &str = "stalled";

/// A dependency `/ready` checks.
#[derive(Clone)]
enum Check {
    /// `SELECT 1` through the pool; the name labels it in `/ready`.
    Database(String, Pool),
    /// A metadata fetch from the brokers, shared by every worker's copy of the checks.
    Kafka(Arc<BrokerCheck>),
}

/// The broker check: one client for the process's lifetime and the last outcome,
/// reused for [`BROKER_CHECK_TTL`].
struct BrokerCheck {
    brokers: String,
    security: crate::settings::KafkaSecurity,
    /// Created on first use and kept for good (librdkafka reconnects by itself); stays
    /// `None` while creating it fails (e.g. a malformed broker list).
    client: std::sync::Mutex<Option<Arc<BaseConsumer>>>,
    /// When the broker was last asked, and its answer (the error text for the log).
    /// An async lock: concurrent probes wait for the one check in flight and share it.
    last: tokio::sync::Mutex<Option<(Instant, Result<(), String>)>>,
}

impl BrokerCheck {
    fn new(brokers: String, security: crate::settings::KafkaSecurity) -> Self {
        Self {
            brokers,
            security,
            client: std::sync::Mutex::new(None),
            last: tokio::sync::Mutex::new(None),
        }
    }

    /// The cached outcome while it is fresh, else a new metadata fetch.
    async fn run(self: &Arc<Self>) -> Result<(), String> {
        let mut last = self.last.lock().await;
        if let Some((at, outcome)) = last.as_ref() {
            if at.elapsed() < BROKER_CHECK_TTL {
                return outcome.clone();
            }
        }
        // Counted so a dashboard (and a test) can see the probes are absorbed.
        metrics::counter!("readiness_broker_checks_total").increment(1);
        let check = self.clone();
        // librdkafka's metadata call blocks its thread; keep it off the async workers.
        let outcome = timed(async move {
            tokio::task::spawn_blocking(move || check.fetch_metadata())
                .await
                .map_err(|e| e.to_string())?
        })
        .await;
        *last = Some((Instant::now(), outcome.clone()));
        outcome
    }

    fn fetch_metadata(&self) -> Result<(), String> {
        let client = {
            let mut client = self
                .client
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match client.as_ref() {
                Some(existing) => existing.clone(),
                None => {
                    let created: Arc<BaseConsumer> = Arc::new(
                        self.security
                            .apply(ClientConfig::new().set("bootstrap.servers", &self.brokers))
                            .create()
                            .map_err(|e| e.to_string())?,
                    );
                    *client = Some(created.clone());
                    created
                }
            }
        };
        let outcome = client
            .fetch_metadata(None, CHECK_TIMEOUT)
            .map(drop)
            .map_err(|e| e.to_string());
        // Nobody else polls this client: serve the events librdkafka queued meanwhile
        // (broker errors, logs), so a long outage does not pile them up in memory.
        for _ in 0..1_000 {
            if client.poll(Duration::ZERO).is_none() {
                break;
            }
        }
        outcome
    }
}

/// The dependencies `/ready` checks; empty means always ready.
#[derive(Clone, Default)]
pub struct Readiness {
    checks: Vec<Check>,
    /// Background workers' ongoing stalls; each is a failed check named after its worker.
    stalls: Stalls,
}

impl Readiness {
    /// No checks: ready as soon as the server runs.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a `database` check: a `SELECT 1` through `pool`.
    pub fn with_database(self, pool: Pool) -> Self {
        self.with_named_database("database", pool)
    }

    /// Adds a database check under `name` (a process with several databases, e.g.
    /// the relay's `source:order`).
    pub fn with_named_database(mut self, name: impl Into<String>, pool: Pool) -> Self {
        self.checks.push(Check::Database(name.into(), pool));
        self
    }

    /// Adds a `kafka` check: a metadata fetch from `brokers`, through one client kept
    /// for the process, at most once per [`BROKER_CHECK_TTL`] (probes in between get
    /// the last answer).
    pub fn with_kafka(self, brokers: impl Into<String>) -> Self {
        self.with_secured_kafka(brokers, crate::settings::KafkaSecurity::default())
    }

    /// [`Readiness::with_kafka`] signing in with `security`.
    pub fn with_secured_kafka(
        mut self,
        brokers: impl Into<String>,
        security: crate::settings::KafkaSecurity,
    ) -> Self {
        self.checks.push(Check::Kafka(Arc::new(BrokerCheck::new(
            brokers.into(),
            security,
        ))));
        self
    }

    /// Reports the stalls of `stalls` (a consumer stuck, a deadline worker failing) as
    /// failed checks while they last.
    pub fn with_stalls(mut self, stalls: Stalls) -> Self {
        self.stalls = stalls;
        self
    }

    /// Runs every check concurrently; the map holds `Ok` or the failure's full text
    /// (for the log, not for the response) per check name.
    pub async fn run(&self) -> BTreeMap<String, Result<(), String>> {
        let results = futures::future::join_all(self.checks.iter().map(|check| async move {
            match check {
                Check::Database(name, pool) => (name.clone(), timed(check_database(pool)).await),
                Check::Kafka(kafka) => ("kafka".to_owned(), kafka.run().await),
            }
        }))
        .await;
        let mut results: BTreeMap<_, _> = results.into_iter().collect();
        for (worker, reason) in self.stalls.report() {
            results.insert(worker, Err(format!("{STALLED}: {reason}")));
        }
        results
    }
}

async fn timed(check: impl std::future::Future<Output = Result<(), String>>) -> Result<(), String> {
    tokio::time::timeout(CHECK_TIMEOUT, check)
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {CHECK_TIMEOUT:?}")))
}

async fn check_database(pool: &Pool) -> Result<(), String> {
    let mut conn = pool.get().await.map_err(|e| e.to_string())?;
    diesel::sql_query("SELECT 1")
        .execute(&mut conn)
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

/// Registers `/health`, `/ready` and `/metrics`; `/ready` runs `readiness`.
pub fn configure(readiness: Readiness) -> impl Fn(&mut web::ServiceConfig) + Clone {
    move |cfg| {
        cfg.app_data(web::Data::new(readiness.clone()))
            .route("/health", web::get().to(health))
            .route("/ready", web::get().to(ready))
            .route("/metrics", web::get().to(metrics));
    }
}

async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

async fn ready(readiness: web::Data<Readiness>) -> HttpResponse {
    let results = readiness.run().await;
    let failures: BTreeMap<&str, &str> = results
        .iter()
        .filter_map(|(name, r)| r.as_ref().err().map(|e| (name.as_str(), e.as_str())))
        .collect();
    if !failures.is_empty() {
        tracing::warn!(failures = ?failures, "not ready");
        // The body names each failed check with a stable word, never the error text.
        let detail = failures
            .iter()
            .map(|(name, error)| {
                let word = if error.starts_with(STALLED) {
                    STALLED
                } else {
                    UNAVAILABLE
                };
                format!("{name}: {word}")
            })
            .collect::<Vec<_>>()
            .join("; ");
        return Problem::new(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            detail,
        )
        .error_response();
    }
    let checks: BTreeMap<_, _> = results.keys().map(|name| (name.as_str(), "ok")).collect();
    HttpResponse::Ok().json(json!({ "status": "ready", "checks": checks }))
}

async fn metrics() -> HttpResponse {
    let handle = install_recorder();
    // Fold the samples recorded since the last upkeep into the histograms.
    handle.run_upkeep();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(handle.render())
}

/// How often histogram samples are folded into their buckets without a scrape.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The recorder buffers every histogram sample until an upkeep folds it into the
/// buckets. A scrape does one, but a process nobody scrapes (a local run, a bench)
/// would keep every request's latency sample forever, so a thread also does one
/// every [`UPKEEP_INTERVAL`]. A plain thread: the recorder outlives any runtime.
fn spawn_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".to_owned())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP_INTERVAL);
            handle.run_upkeep();
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "no metrics upkeep thread; histograms grow until scraped");
    }
}

/// Installs the process-wide Prometheus recorder once and returns its handle.
///
/// Safe to call from every server and test in a process. If another recorder was
/// installed first, the handle renders an empty registry rather than failing start-up.
pub fn install_recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            // Every `*_seconds` histogram (HTTP latency, relay commit→ack latency) gets
            // buckets from 1 ms to 10 s: the relay's goals sit at 5 ms and 25 ms.
            .set_buckets_for_metric(
                Matcher::Suffix("_seconds".to_owned()),
                &[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ],
            )
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics will be empty");
        }
        spawn_upkeep(handle.clone());
        handle
    })
}
