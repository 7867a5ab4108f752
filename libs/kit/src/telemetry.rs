//! Logs: JSON lines on stdout, and to Loki when `LOKI_URL` is set.
//!
//! Loki labels are only `service` and `env`: labels index streams, so a per-request value
//! such as the correlation id would explode the stream count. It stays a JSON field of the
//! request span, where Loki's `| json` finds it.

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer, Registry};

/// Environment variable with the Loki base URL (e.g. `http://127.0.0.1:3100`).
pub const LOKI_URL_VAR: &str = "LOKI_URL";
/// Environment variable that makes tests print their logs.
pub const TEST_LOG_VAR: &str = "TEST_LOG";

/// Installs the global subscriber for `service`; a second call is a no-op.
///
/// With `LOKI_URL` set it must run inside a tokio runtime, which drives the Loki shipper.
pub fn init(service: &'static str, env: &crate::settings::Env) -> anyhow::Result<()> {
    let env = env.as_str();
    let loki_url = std::env::var(LOKI_URL_VAR)
        .ok()
        .filter(|url| !url.is_empty());
    let runtime = match loki_url {
        Some(_) => Some(
            tokio::runtime::Handle::try_current()
                .map_err(|_| anyhow::anyhow!("{LOKI_URL_VAR} is set but no tokio runtime runs"))?,
        ),
        None => None,
    };
    let (subscriber, shipper) = subscriber(service, env, loki_url.as_deref(), std::io::stdout)?;
    // A second call keeps the first subscriber ("already set" is not an error) and must not
    // spawn its shipper: tracing-loki 0.2's shipper spins forever once its layer is dropped.
    if subscriber.try_init().is_ok() {
        if let (Some(runtime), Some(shipper)) = (runtime, shipper) {
            runtime.spawn(shipper);
        }
    }
    Ok(())
}

/// The subscriber [`init`] installs: JSON lines to `writer`, filtered by `RUST_LOG`, and with
/// `loki_url` also a [`loki_layer`] whose shipper task is returned for the caller to spawn.
///
/// Public so a test can run exactly this as a scoped default against a fake Loki.
pub fn subscriber<W>(
    service: &str,
    env: &str,
    loki_url: Option<&str>,
    writer: W,
) -> anyhow::Result<(
    impl tracing::Subscriber + Send + Sync + 'static,
    Option<tracing_loki::BackgroundTask>,
)>
where
    W: for<'w> fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let (loki, shipper) = match loki_url {
        Some(url) => {
            let (layer, shipper) = loki_layer(url, service, env)?;
            (Some(layer), Some(shipper))
        }
        None => (None, None),
    };
    let subscriber = tracing_subscriber::registry()
        .with(json_layer(writer).and_then(loki))
        .with(env_filter());
    Ok((subscriber, shipper))
}

/// Installs test logging: shown with `TEST_LOG=1`, swallowed otherwise; repeat calls are no-ops.
pub fn init_for_tests() {
    if std::env::var_os(TEST_LOG_VAR).is_some() {
        install(json_layer(std::io::stdout));
    } else {
        install(json_layer(std::io::sink));
    }
}

/// Builds a Loki layer labelled `service` and `env`, and the task that ships its batches.
pub fn loki_layer(
    url: &str,
    service: &str,
    env: &str,
) -> anyhow::Result<(tracing_loki::Layer, tracing_loki::BackgroundTask)> {
    let url = tracing_loki::url::Url::parse(url)?;
    let built = tracing_loki::builder()
        .label("service", service)?
        .label("env", env)?
        .build_url(url)?;
    Ok(built)
}

/// JSON lines carrying the current span's fields (hence the correlation id) on every event.
///
/// `json-subscriber` writes the same lines as `tracing_subscriber`'s JSON format, but
/// keeps each span's fields serialized once: tracing-subscriber's format stores them as
/// a JSON string and parses that string back on every event, which made the access line
/// the costliest part of a request's own bookkeeping (`cargo xtask bench gateway`).
fn json_layer<W>(writer: W) -> impl Layer<Registry> + Send + Sync
where
    W: for<'w> fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    json_subscriber::fmt::layer()
        .with_current_span(true)
        .with_span_list(false)
        .with_writer(writer)
}

fn env_filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"))
}

fn install(layer: impl Layer<Registry> + Send + Sync) {
    // Tests call this once per test in one process: "already set" is expected, not an error.
    let _ = tracing_subscriber::registry()
        .with(layer)
        .with(env_filter())
        .try_init();
}
