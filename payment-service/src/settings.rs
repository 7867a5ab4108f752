//! payment-service settings: the kit's service settings plus `[auth]` (token
//! verification), `[provider]` (the payment provider's API and webhook secrets) and
//! `[saga]` (how often the deadline worker runs the provider calls).

use std::time::Duration;

use comanda_kit::auth::AuthSettings;
use comanda_kit::settings::{Env, SecuredSettings, ServiceSettings};
use comanda_outbox::deadline::SagaSettings;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};

/// The settings of payment-service.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `env`, `http`, `database`, `kafka`.
    pub service: ServiceSettings,
    /// How access tokens are verified.
    pub auth: AuthSettings,
    /// The payment provider.
    pub provider: ProviderSettings,
    /// The deadline worker's poll interval (`poll_interval_ms`; the request timeout
    /// and attempts of `[saga]` do not apply: a provider call is retried until it
    /// succeeds, with the worker's backoff).
    pub saga: SagaSettings,
}

/// The webhook secret of the development sandbox (`config/default.toml`): refused
/// when `env = "prod"`, like the development token keys.
pub const DEV_WEBHOOK_SECRET: &str = "whsec_sandbox_dev";

/// `[provider]`: where the provider's API is and how its webhooks are checked.
#[derive(Clone, Deserialize)]
pub struct ProviderSettings {
    /// Base URL of the provider's API, e.g. `http://127.0.0.1:5030`.
    pub base_url: String,
    /// Secrets a webhook may be signed with; any one matching is enough (rotation).
    /// A list, or one string of comma-separated secrets (as an environment variable).
    /// Never printed.
    #[serde(deserialize_with = "secret_list")]
    pub webhook_secrets: Vec<SecretString>,
    /// How long one provider call may take before it counts as failed (default 10 s).
    #[serde(default = "default_request_timeout_ms")]
    pub request_timeout_ms: u64,
    /// How far a webhook's signed timestamp may be from now, in seconds (default 300).
    #[serde(default = "default_signature_tolerance_secs")]
    pub signature_tolerance_secs: u64,
}

impl std::fmt::Debug for ProviderSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderSettings")
            .field("base_url", &self.base_url)
            .field(
                "webhook_secrets",
                &format!("[{} redacted]", self.webhook_secrets.len()),
            )
            .field("request_timeout_ms", &self.request_timeout_ms)
            .field("signature_tolerance_secs", &self.signature_tolerance_secs)
            .finish()
    }
}

impl ProviderSettings {
    /// Settings for the provider at `base_url` whose webhooks are signed with `secret`.
    pub fn new(base_url: impl Into<String>, secret: &str) -> Self {
        Self {
            base_url: base_url.into(),
            webhook_secrets: vec![SecretString::from(secret.to_owned())],
            request_timeout_ms: default_request_timeout_ms(),
            signature_tolerance_secs: default_signature_tolerance_secs(),
        }
    }

    /// [`Self::request_timeout_ms`] as a duration.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// Refuses settings no webhook could pass (no secret, an empty one) and, outside
    /// `dev` and `test`, the committed development secret: anyone could sign with it.
    pub fn check(&self, env: Env) -> anyhow::Result<()> {
        anyhow::ensure!(
            !self.webhook_secrets.is_empty(),
            "provider.webhook_secrets is empty: no webhook could be verified"
        );
        for secret in &self.webhook_secrets {
            let secret = secret.expose_secret();
            anyhow::ensure!(
                !secret.trim().is_empty(),
                "provider.webhook_secrets holds an empty secret"
            );
            anyhow::ensure!(
                env.allows_dev_secrets() || secret != DEV_WEBHOOK_SECRET,
                "provider.webhook_secrets holds the committed development secret, refused \
                 in {env}: anyone could sign webhooks with it"
            );
        }
        Ok(())
    }
}

/// A list of secrets, or one string of comma-separated ones.
fn secret_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<SecretString>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Secrets {
        List(Vec<String>),
        Joined(String),
    }
    let secrets = match Secrets::deserialize(deserializer)? {
        Secrets::List(list) => list,
        Secrets::Joined(joined) => joined.split(',').map(str::to_owned).collect(),
    };
    Ok(secrets
        .into_iter()
        .map(|s| SecretString::from(s.trim().to_owned()))
        .collect())
}

fn default_request_timeout_ms() -> u64 {
    10_000
}

fn default_signature_tolerance_secs() -> u64 {
    300
}

impl Settings {
    /// `service` with the dev token key, the provider at `provider` and the default
    /// saga settings (tests).
    pub fn with_dev_auth(service: ServiceSettings, provider: ProviderSettings) -> Self {
        let secured = SecuredSettings::with_dev_auth(service);
        Self {
            service: secured.service,
            auth: secured.auth,
            provider,
            saga: SagaSettings::default(),
        }
    }
}

/// Compiled-in defaults, enough for a local run.
pub const DEFAULTS: &str = include_str!("../config/default.toml");

/// Loads the defaults, then the `COMANDA_CONFIG` file, then `COMANDA__*` variables.
pub fn load() -> anyhow::Result<Settings> {
    // `[provider]` and `[saga]` are read as tables of their own, like the kit reads `[auth]`.
    #[derive(Deserialize)]
    struct OwnSections {
        provider: ProviderSettings,
        #[serde(default)]
        saga: SagaSettings,
    }
    let secured = SecuredSettings::load(DEFAULTS)?;
    let own = comanda_kit::settings::load::<OwnSections>(DEFAULTS)?;
    own.provider.check(secured.service.env)?;
    Ok(Settings {
        service: secured.service,
        auth: secured.auth,
        provider: own.provider,
        saga: own.saga,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_call_the_local_sandbox_and_allow_five_minutes_of_clock_skew() {
        let settings = load().expect("defaults load");
        assert_eq!(settings.service.http.port, 5014);
        assert_eq!(settings.provider.base_url, "http://127.0.0.1:5030");
        assert_eq!(settings.provider.request_timeout_ms, 10_000);
        assert_eq!(settings.provider.signature_tolerance_secs, 300);
        assert_eq!(settings.provider.webhook_secrets.len(), 1);
        assert_eq!(settings.saga.poll_interval_ms, 1_000);
    }

    #[test]
    fn webhook_secrets_are_never_printed() {
        let settings = load().expect("defaults load");
        let printed = format!("{settings:?}");
        assert!(!printed.contains(DEV_WEBHOOK_SECRET), "{printed}");
        assert!(printed.contains("redacted"), "{printed}");
    }

    #[test]
    fn secrets_may_be_a_list_or_one_comma_separated_string() {
        #[derive(Deserialize)]
        struct Holder {
            #[serde(deserialize_with = "secret_list")]
            secrets: Vec<SecretString>,
        }
        let exposed = |json: &str| -> Vec<String> {
            let holder: Holder = serde_json::from_str(json).expect("decodes");
            holder
                .secrets
                .iter()
                .map(|s| s.expose_secret().to_owned())
                .collect()
        };
        assert_eq!(exposed(r#"{"secrets":["a","b"]}"#), ["a", "b"]);
        assert_eq!(exposed(r#"{"secrets":"new, old"}"#), ["new", "old"]);
    }

    #[test]
    fn the_dev_secret_is_refused_in_prod_and_no_secret_anywhere() {
        let dev = ProviderSettings::new("http://sandbox", DEV_WEBHOOK_SECRET);
        assert!(dev.check(Env::Dev).is_ok());
        assert!(dev.check(Env::Prod).is_err());
        let own = ProviderSettings::new("http://sandbox", "whsec_own");
        assert!(own.check(Env::Prod).is_ok());
        let none = ProviderSettings {
            webhook_secrets: Vec::new(),
            ..own.clone()
        };
        assert!(none.check(Env::Dev).is_err());
        assert!(ProviderSettings::new("http://sandbox", " ")
            .check(Env::Dev)
            .is_err());
    }
}
