//! gateway settings: listener, upstream instances, proxy limits, health checks, rate
//! limits, CORS and token verification. The gateway owns no database.

use comanda_kit::auth::AuthSettings;
use comanda_kit::settings::HttpSettings;
use serde::{Deserialize, Deserializer};

/// Compiled-in defaults, enough for a local run.
pub const DEFAULTS: &str = include_str!("../config/default.toml");

/// The settings of the gateway.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// Deployment environment (`dev`, `test`, `prod`); an unknown name refuses to load.
    #[serde(default = "comanda_kit::settings::default_env")]
    pub env: comanda_kit::settings::Env,
    /// HTTP listener.
    pub http: HttpSettings,
    /// Instances of each service.
    pub upstreams: UpstreamsSettings,
    /// Deadlines and limits of forwarded requests.
    pub proxy: ProxySettings,
    /// Active health checks of the instances.
    pub health_check: HealthCheckSettings,
    /// Per-IP limits on login and register, per-user limits on placing orders.
    pub rate_limit: RateLimitSettings,
    /// Cross-origin requests from browsers.
    pub cors: CorsSettings,
    /// Access-token verification at the edge.
    #[serde(default)]
    pub auth: AuthSettings,
}

/// The instances of the five services.
#[derive(Debug, Clone, Deserialize)]
pub struct UpstreamsSettings {
    /// auth-service.
    pub auth: UpstreamSettings,
    /// user-service.
    pub user: UpstreamSettings,
    /// order-service.
    pub order: UpstreamSettings,
    /// product-service.
    pub product: UpstreamSettings,
    /// payment-service.
    pub payment: UpstreamSettings,
}

/// The instances of one service.
#[derive(Debug, Clone, Deserialize)]
pub struct UpstreamSettings {
    /// Base URLs, e.g. `http://127.0.0.1:5010`; a list, or one comma-separated string
    /// (what an environment variable can carry).
    #[serde(deserialize_with = "list_or_comma_separated")]
    pub urls: Vec<String>,
}

/// Deadlines and limits of forwarded requests.
#[derive(Debug, Clone, Deserialize)]
pub struct ProxySettings {
    /// Deadline for the upstream's response headers, and the longest silence in the
    /// middle of a response body, in milliseconds.
    pub timeout_ms: u64,
    /// Deadline for connecting to an instance, in milliseconds.
    pub connect_timeout_ms: u64,
    /// Largest request body forwarded, in bytes.
    pub max_body_bytes: u64,
    /// Connections to upstreams each worker thread keeps open at most (one per
    /// in-flight request); more requests wait for one within `timeout_ms`.
    pub max_connections: usize,
}

/// Active health checks.
#[derive(Debug, Clone, Deserialize)]
pub struct HealthCheckSettings {
    /// Time between two rounds of checks, in milliseconds.
    pub interval_ms: u64,
    /// Deadline of one `GET /health`, in milliseconds.
    pub timeout_ms: u64,
}

/// Per-IP rate limits.
#[derive(Debug, Clone, Deserialize)]
pub struct RateLimitSettings {
    /// Sustained requests per minute and IP.
    pub per_minute: u32,
    /// Requests an IP may make at once before the sustained rate applies.
    pub burst: u32,
    /// Load balancers in front of the gateway (addresses or networks): behind them the
    /// client is the address they report in `X-Forwarded-For`, not the TCP peer.
    /// Empty: the peer is always the client (the header is never believed).
    #[serde(default, deserialize_with = "list_or_comma_separated")]
    pub trusted_proxies: Vec<String>,
    /// Per-user limit on `POST /api/v1/orders`.
    #[serde(default)]
    pub orders: UserRateLimitSettings,
}

/// A per-user rate limit, keyed by the access token's subject.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UserRateLimitSettings {
    /// Sustained requests per minute and user.
    pub per_minute: u32,
    /// Requests a user may make at once before the sustained rate applies.
    pub burst: u32,
}

impl Default for UserRateLimitSettings {
    /// Enough for a person (ten orders at once, then one every two seconds), too few
    /// for a script filling the catalogue.
    fn default() -> Self {
        Self {
            per_minute: 30,
            burst: 10,
        }
    }
}

/// Cross-origin resource sharing.
#[derive(Debug, Clone, Deserialize)]
pub struct CorsSettings {
    /// Origins allowed to call the API from a browser; `*` allows any.
    #[serde(deserialize_with = "list_or_comma_separated")]
    pub allowed_origins: Vec<String>,
    /// Methods allowed cross-origin.
    #[serde(deserialize_with = "list_or_comma_separated")]
    pub allowed_methods: Vec<String>,
    /// Request headers allowed cross-origin.
    #[serde(deserialize_with = "list_or_comma_separated")]
    pub allowed_headers: Vec<String>,
    /// How long browsers may cache a preflight answer, in seconds.
    pub max_age_secs: usize,
}

/// Loads the defaults, then the `COMANDA_CONFIG` file, then `COMANDA__*` variables.
pub fn load() -> anyhow::Result<Settings> {
    comanda_kit::settings::load(DEFAULTS)
}

/// The `config` crate reads an environment variable as one string; accepting
/// `a,b` as well as a TOML list keeps `COMANDA__UPSTREAMS__AUTH__URLS=a,b` working
/// without special list parsing in the kit's loader.
fn list_or_comma_separated<'de, D>(deserializer: D) -> Result<Vec<String>, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrString {
        List(Vec<String>),
        String(String),
    }
    let items = match ListOrString::deserialize(deserializer)? {
        ListOrString::List(items) => items,
        ListOrString::String(joined) => joined.split(',').map(str::to_owned).collect(),
    };
    Ok(items
        .into_iter()
        .map(|item| item.trim().to_owned())
        .filter(|item| !item.is_empty())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(toml_value: &str) -> Vec<String> {
        let settings: UpstreamSettings =
            comanda_kit::settings::load(&format!("urls = {toml_value}")).expect("parses");
        settings.urls
    }

    #[test]
    fn upstream_urls_are_read_from_a_list() {
        assert_eq!(
            urls(r#"["http://a:1", "http://b:2"]"#),
            ["http://a:1", "http://b:2"]
        );
    }

    #[test]
    fn upstream_urls_are_read_from_a_comma_separated_string() {
        assert_eq!(
            urls(r#"" http://a:1 ,http://b:2,""#),
            ["http://a:1", "http://b:2"]
        );
    }

    #[test]
    fn the_compiled_in_defaults_are_valid_settings() {
        let settings: Settings = comanda_kit::settings::load(DEFAULTS).expect("defaults parse");
        assert_eq!(settings.upstreams.order.urls, ["http://127.0.0.1:5012"]);
        assert_eq!(settings.proxy.max_body_bytes, 1024 * 1024);
        assert_eq!(settings.rate_limit.orders, UserRateLimitSettings::default());
    }
}
