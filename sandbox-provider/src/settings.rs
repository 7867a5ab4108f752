//! sandbox-provider settings: listener, public URL, the delayed card, webhooks.

use std::time::Duration;

use comanda_kit::settings::{default_env, Env, HttpSettings};
use secrecy::SecretString;
use serde::{Deserialize, Deserializer};

/// Compiled-in defaults, enough for a local run.
pub const DEFAULTS: &str = include_str!("../config/default.toml");

/// Everything the sandbox reads at start-up.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// Deployment environment, a log label; an unknown name refuses to load.
    #[serde(default = "default_env")]
    pub env: Env,
    /// HTTP listener.
    pub http: HttpSettings,
    /// Base URL browsers reach the sandbox at (`checkout_url` starts with it); empty
    /// means the bound address.
    #[serde(default)]
    pub public_url: String,
    /// How long the delayed test card stays `processing`, in ms.
    pub delayed_success_ms: u64,
    /// Where and how events are delivered.
    pub webhook: WebhookSettings,
}

/// Webhook delivery, with the knobs tests turn on to misbehave like real processors.
#[derive(Debug, Clone, Deserialize)]
pub struct WebhookSettings {
    /// Receiver URL; empty: events are logged and dropped.
    #[serde(default)]
    pub url: String,
    /// Signing secrets, one `v1` each (Debug prints `[REDACTED]`).
    #[serde(deserialize_with = "secrets")]
    pub secrets: Vec<SecretString>,
    /// Send every event twice with the same event id.
    #[serde(default)]
    pub duplicate: bool,
    /// Hold events for `batch_window_ms`, then deliver the batch in reverse order.
    #[serde(default)]
    pub out_of_order: bool,
    /// The out-of-order batching window, in ms.
    pub batch_window_ms: u64,
    /// How long every event waits before its first attempt, in ms.
    #[serde(default)]
    pub delay_ms: u64,
    /// Wait before the first retry, in ms; doubled each retry.
    pub retry_initial_ms: u64,
    /// Longest wait between retries, in ms.
    pub retry_max_ms: u64,
    /// Deadline of one attempt, in ms.
    pub timeout_ms: u64,
    /// Events whose first attempt may be in flight at once (default 8; started in queue
    /// order; 1: one after the other, each waiting for the receiver's answer).
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
}

fn default_concurrency() -> usize {
    8
}

impl WebhookSettings {
    /// The wait before retry number `retry` (0 = first retry): doubling, capped.
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u64.checked_shl(retry.min(32)).unwrap_or(u64::MAX);
        Duration::from_millis(
            self.retry_initial_ms
                .saturating_mul(factor)
                .min(self.retry_max_ms),
        )
    }
}

impl Settings {
    /// The compiled-in defaults alone, with no file or environment layered over them
    /// (tests start from these and change what they exercise).
    pub fn defaults() -> anyhow::Result<Self> {
        config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .build()?
            .try_deserialize()
            .map_err(|e| anyhow::anyhow!("invalid default settings: {e}"))
    }
}

/// Loads the defaults, then the `COMANDA_CONFIG` file, then `COMANDA__*` variables.
pub fn load() -> anyhow::Result<Settings> {
    comanda_kit::settings::load(DEFAULTS)
}

/// A TOML list, or one comma-separated string (what an environment variable carries).
fn secrets<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<SecretString>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrString {
        List(Vec<String>),
        String(String),
    }
    let list = match ListOrString::deserialize(deserializer)? {
        ListOrString::List(list) => list,
        ListOrString::String(text) => text.split(',').map(str::to_owned).collect(),
    };
    let secrets: Vec<SecretString> = list
        .into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .map(SecretString::from)
        .collect();
    if secrets.is_empty() {
        return Err(serde::de::Error::custom(
            "webhook.secrets must name at least one signing secret",
        ));
    }
    Ok(secrets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_load_and_backoff_doubles_up_to_its_cap() {
        let settings = Settings::defaults().expect("defaults load");
        assert_eq!(settings.http.port, 5030);
        let webhook = &settings.webhook;
        assert_eq!(webhook.backoff(0), Duration::from_millis(200));
        assert_eq!(webhook.backoff(1), Duration::from_millis(400));
        assert_eq!(webhook.backoff(5), Duration::from_millis(6_400));
        assert_eq!(webhook.backoff(6), Duration::from_secs(10));
        assert_eq!(webhook.backoff(200), Duration::from_secs(10));
    }
}
