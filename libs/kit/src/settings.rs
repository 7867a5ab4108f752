//! Layered settings: embedded defaults, then an optional file, then the environment.
//!
//! Each service embeds its defaults as TOML, so a binary runs locally with no
//! configuration at all; deployments override single values with environment variables
//! named `COMANDA__SECTION__KEY` (e.g. `COMANDA__HTTP__PORT=5010`), or a whole file named by
//! `COMANDA_CONFIG`.

use config::{Config, Environment, File, FileFormat};
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// Environment variable naming an optional TOML file layered over the defaults.
pub const CONFIG_FILE_VAR: &str = "COMANDA_CONFIG";
/// Prefix of environment overrides; sections are separated by `__` as well.
pub const ENV_PREFIX: &str = "COMANDA";

/// Loads `T` from `defaults_toml`, the `COMANDA_CONFIG` file if set, and `COMANDA__*` env vars.
pub fn load<T: DeserializeOwned>(defaults_toml: &str) -> anyhow::Result<T> {
    let mut builder = Config::builder().add_source(File::from_str(defaults_toml, FileFormat::Toml));
    if let Ok(path) = std::env::var(CONFIG_FILE_VAR) {
        builder = builder.add_source(File::with_name(&path).format(FileFormat::Toml));
    }
    // `prefix_separator` makes the name exactly `COMANDA__HTTP__PORT`, and single
    // underscores stay inside key names (`COMANDA__DATABASE__POOL_SIZE`).
    let env = Environment::with_prefix(ENV_PREFIX)
        .prefix_separator("__")
        .separator("__");
    let settings = builder
        .add_source(env)
        .build()?
        .try_deserialize()
        .map_err(|e| anyhow::anyhow!("invalid settings: {e}"))?;
    Ok(settings)
}

/// Where the HTTP server listens.
#[derive(Debug, Clone, Deserialize)]
pub struct HttpSettings {
    /// Interface to bind, e.g. `127.0.0.1` or `0.0.0.0`.
    pub host: String,
    /// Port to bind; 0 lets the OS choose (tests).
    pub port: u16,
}

/// The service's Postgres database.
#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// Connection URL; secret because it may carry a password (Debug prints `[REDACTED]`).
    pub url: SecretString,
    /// Maximum number of pooled connections.
    pub pool_size: usize,
}

/// The Kafka cluster the service publishes to and consumes from.
#[derive(Debug, Clone, Deserialize)]
pub struct KafkaSettings {
    /// Bootstrap servers, comma separated (`host:port,host:port`).
    pub brokers: String,
    /// Whether `/ready` fetches broker metadata; off in tests that run without a broker.
    #[serde(default = "default_true")]
    pub ready_check: bool,
    /// Prepended to every topic name; empty in deployments, unique per test so
    /// tests sharing one broker never see each other's events.
    #[serde(default)]
    pub topic_prefix: String,
    /// Seconds a consumer group may have lag without any progress before a consumer
    /// tears itself down and joins again (see `comanda_outbox::inbox`'s watchdog).
    #[serde(default = "default_stall_timeout_secs")]
    pub consumer_stall_timeout_secs: u64,
    /// This process's name in its consumer groups (Kafka static membership,
    /// `group.instance.id`); default: the host name. A restarted process takes its
    /// predecessor's place in the group instead of waiting for the dead member to
    /// expire, and tansu 0.6.0 only recovers a group whose leader was SIGKILLed this
    /// way (README, "The broker"). Two processes of one service on one host must be
    /// given different names.
    #[serde(default)]
    pub instance_id: Option<String>,
    /// How this process's consumers get their partitions (`group` or `all`).
    #[serde(default)]
    pub assignment: Assignment,
    /// Replicas per partition of the topics this process creates (default 1: one
    /// broker; a production cluster wants 3). See `comanda_outbox::topics::Durability`.
    #[serde(default = "default_one")]
    pub replication_factor: i32,
    /// In-sync replicas an `acks=all` write needs on those topics (default 1; with 3
    /// replicas, 2).
    #[serde(default = "default_one")]
    pub min_insync_replicas: i32,
    /// Longest time the broker may hold a consumer's fetch when it has no data
    /// (`fetch.wait.max.ms`), in milliseconds. Apache Kafka answers a fetch as soon as
    /// data arrives, so this only bounds idle polling: its default, 500, fits it. tansu
    /// 0.6.0 holds every fetch for the whole wait even when data arrives meanwhile, so
    /// each hop of a saga waits about this long: local runs and tests on tansu set it
    /// low (README, "The broker", has the measurements).
    #[serde(default = "default_fetch_wait_max_ms")]
    pub fetch_wait_max_ms: u64,
    /// Most messages a consumer applies in one database transaction (default 100; 1:
    /// one transaction per message). Only messages already waiting are batched, so at
    /// low rates every message is applied alone and at once; under load one commit
    /// serves many (`comanda_outbox::inbox`, "batch").
    #[serde(default = "default_consumer_max_batch")]
    pub consumer_max_batch: usize,
    /// At most this many partitions a consumer applies side by side, each in its own
    /// transaction (`comanda_outbox::inbox`, "lanes"). Unset: as many as the service
    /// allows (order-service all of its partitions; the others one, since their handlers
    /// share rows across keys). It can lower the service's choice, never raise it; 1
    /// applies one partition after the other.
    #[serde(default)]
    pub consumer_lanes: Option<usize>,
    /// `security.protocol` of this process's Kafka clients, e.g. `SASL_PLAINTEXT`; empty:
    /// librdkafka's default (plaintext, no sign-in: tansu, the tests).
    #[serde(default)]
    pub security_protocol: String,
    /// `sasl.mechanism`, e.g. `SCRAM-SHA-512`; empty: none set.
    #[serde(default)]
    pub sasl_mechanism: String,
    /// The Kafka user this process signs in as (its own: see docs/events.md, "Trust model").
    #[serde(default)]
    pub sasl_username: String,
    /// That user's password (Debug prints `[REDACTED]`).
    #[serde(default)]
    pub sasl_password: Option<SecretString>,
}

/// How a Kafka client signs in: [`KafkaSettings`]' `security_protocol`, `sasl_*` fields,
/// given to every rdkafka client of the process. The default signs in as nobody.
#[derive(Debug, Clone, Default)]
pub struct KafkaSecurity {
    /// `security.protocol`; empty: not set.
    pub protocol: String,
    /// `sasl.mechanism`; empty: not set.
    pub mechanism: String,
    /// `sasl.username`; empty: not set.
    pub username: String,
    /// `sasl.password`.
    pub password: Option<SecretString>,
}

impl KafkaSecurity {
    /// The same protocol and mechanism, signed in as `username` with `password` (the
    /// relay publishes each service's outbox as that service).
    pub fn as_user(&self, username: &str, password: Option<SecretString>) -> Self {
        Self {
            username: username.to_owned(),
            password,
            ..self.clone()
        }
    }

    /// Sets the non-empty fields on `config`.
    pub fn apply<'a>(
        &self,
        config: &'a mut rdkafka::ClientConfig,
    ) -> &'a mut rdkafka::ClientConfig {
        use secrecy::ExposeSecret;
        for (key, value) in [
            ("security.protocol", &self.protocol),
            ("sasl.mechanism", &self.mechanism),
            ("sasl.username", &self.username),
        ] {
            if !value.is_empty() {
                config.set(key, value);
            }
        }
        if let Some(password) = &self.password {
            config.set("sasl.password", password.expose_secret());
        }
        config
    }
}

/// The fetch wait for the local broker (tansu 0.6.0), which holds a fetch for the whole
/// wait even when data arrives: each hop of a saga then waits about this long.
/// Measured with `cargo xtask bench fetch` (2 cores): produce → consume p50 7.5 ms at
/// 5, 13 ms at 10, 27 ms at 25, 502 ms at 500. The broker's CPU is not flat in the
/// whole stack (five consumers, 16 topics of 3 partitions): idle, tansu burns 0.31,
/// 0.22, 0.135 and 0.07 of a core at 5, 10, 25 and 50. 10 is what the e2e bench
/// prefers at 100 orders/s: POST → decided p50 87 ms at 10 against 134 ms at 25
/// (README, "The broker").
pub const TANSU_FETCH_WAIT_MS: u64 = 10;

/// librdkafka's own default: right for Apache Kafka (see
/// [`KafkaSettings::fetch_wait_max_ms`]).
fn default_fetch_wait_max_ms() -> u64 {
    500
}

fn default_consumer_max_batch() -> usize {
    100
}

fn default_one() -> i32 {
    1
}

/// How a consumer gets its partitions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Assignment {
    /// Kafka's consumer-group protocol: the instances of a service share the
    /// partitions, and a new or dead instance triggers a rebalance (deployments on
    /// Apache Kafka, docker compose).
    #[default]
    Group,
    /// This process reads every partition itself, with no group membership; offsets
    /// are still committed under the group's name, so a restart resumes where it
    /// stopped. For one instance per service on a broker whose group coordinator
    /// cannot be trusted: the local runs and the tests on tansu 0.6.0, which can hand
    /// a restarted service no partitions at all (README, "The broker"). Two instances
    /// in this mode would both read everything (dedupe keeps the effects single, but
    /// the work doubles).
    All,
}

/// 30 s: well above a rebalance or a broker restart, short enough that a stuck
/// order is noticed long before anyone complains.
fn default_stall_timeout_secs() -> u64 {
    30
}

impl KafkaSettings {
    /// Kafka settings for `brokers` with every other field at its default.
    pub fn new(brokers: impl Into<String>) -> Self {
        Self {
            brokers: brokers.into(),
            ready_check: true,
            topic_prefix: String::new(),
            consumer_stall_timeout_secs: default_stall_timeout_secs(),
            instance_id: None,
            assignment: Assignment::Group,
            replication_factor: 1,
            min_insync_replicas: 1,
            fetch_wait_max_ms: default_fetch_wait_max_ms(),
            consumer_max_batch: default_consumer_max_batch(),
            consumer_lanes: None,
            security_protocol: String::new(),
            sasl_mechanism: String::new(),
            sasl_username: String::new(),
            sasl_password: None,
        }
    }

    /// How this process's Kafka clients sign in.
    pub fn security(&self) -> KafkaSecurity {
        KafkaSecurity {
            protocol: self.security_protocol.clone(),
            mechanism: self.sasl_mechanism.clone(),
            username: self.sasl_username.clone(),
            password: self.sasl_password.clone(),
        }
    }

    /// [`KafkaSettings::fetch_wait_max_ms`] as a duration.
    pub fn fetch_wait(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.fetch_wait_max_ms)
    }

    /// This process's static member name: [`KafkaSettings::instance_id`] or the host name.
    pub fn instance_id(&self) -> String {
        self.instance_id.clone().unwrap_or_else(|| {
            nix::unistd::gethostname()
                .ok()
                .and_then(|name| name.into_string().ok())
                .filter(|name| !name.is_empty())
                .unwrap_or_else(|| "localhost".to_owned())
        })
    }

    /// How long a consumer group may have lag without progress before a consumer is rebuilt.
    pub fn consumer_stall_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.consumer_stall_timeout_secs)
    }

    /// The full name of topic `name` (e.g. `creating.user`) under the prefix.
    pub fn topic(&self, name: &str) -> String {
        format!("{}{name}", self.topic_prefix)
    }

    /// The full name of consumer group `name`: it carries the prefix too, so tests
    /// sharing a broker never join each other's groups.
    pub fn group(&self, name: &str) -> String {
        format!("{}{name}", self.topic_prefix)
    }
}

fn default_true() -> bool {
    true
}

/// The deployment environment (`COMANDA__ENV`): exactly `dev`, `test` or `prod`.
///
/// Security decisions hang on it (the committed dev keys and the dev admin password are
/// accepted in `dev` and `test` only), so it fails closed: any other spelling —
/// `production`, `PROD`, `prod ` — is refused when the settings load, and the process
/// does not start, rather than being taken for "not prod".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Env {
    /// A developer's machine (`cargo xtask up`, `docker compose up`): dev keys allowed,
    /// demo data seeded. The default when `COMANDA__ENV` is not set, so a local run
    /// needs no configuration.
    #[default]
    Dev,
    /// Automated tests: dev keys allowed.
    Test,
    /// A deployment: every secret must be its own.
    Prod,
}

impl Env {
    /// The name as configured (`dev`, `test`, `prod`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dev => "dev",
            Self::Test => "test",
            Self::Prod => "prod",
        }
    }

    /// True where the committed development secrets (the dev key pair, the dev admin
    /// password) may be used: `dev` and `test`, never `prod`.
    pub fn allows_dev_secrets(self) -> bool {
        matches!(self, Self::Dev | Self::Test)
    }
}

impl std::str::FromStr for Env {
    type Err = anyhow::Error;

    /// Exact match only: no trimming, no case folding, no aliases.
    fn from_str(name: &str) -> anyhow::Result<Self> {
        match name {
            "dev" => Ok(Self::Dev),
            "test" => Ok(Self::Test),
            "prod" => Ok(Self::Prod),
            other => anyhow::bail!(
                "env (COMANDA__ENV) is {other:?}: it must be exactly one of \"dev\", \"test\" \
                 or \"prod\" (refusing to start rather than guess)"
            ),
        }
    }
}

impl std::fmt::Display for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for Env {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl<'de> Deserialize<'de> for Env {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// Settings of every database-backed service: `env`, `http`, `database`, `kafka`.
#[derive(Debug, Clone, Deserialize)]
pub struct ServiceSettings {
    /// Deployment environment; an unknown name refuses to load.
    #[serde(default = "default_env")]
    pub env: Env,
    /// HTTP listener.
    pub http: HttpSettings,
    /// Postgres database.
    pub database: DatabaseSettings,
    /// Kafka cluster.
    pub kafka: KafkaSettings,
}

/// The environment used when `COMANDA__ENV` is not set: [`Env::Dev`].
pub fn default_env() -> Env {
    Env::default()
}

/// A database-backed service that verifies access tokens: [`ServiceSettings`] plus
/// the `[auth]` table.
#[derive(Debug, Clone)]
pub struct SecuredSettings {
    /// `env`, `http`, `database`, `kafka`.
    pub service: ServiceSettings,
    /// How access tokens are verified (empty key = the dev key, refused in prod).
    pub auth: crate::auth::AuthSettings,
}

impl SecuredSettings {
    /// `service` with the dev token key (tests).
    pub fn with_dev_auth(service: ServiceSettings) -> Self {
        Self {
            service,
            auth: crate::auth::AuthSettings::default(),
        }
    }

    /// Loads both parts with [`load`] from the same layers.
    ///
    /// `[auth]` is read as a table of its own rather than flattened into
    /// `ServiceSettings`: serde's flatten loses the `config` crate's typing of
    /// environment values (ports would arrive as strings).
    pub fn load(defaults_toml: &str) -> anyhow::Result<Self> {
        #[derive(Deserialize)]
        struct AuthSection {
            #[serde(default)]
            auth: crate::auth::AuthSettings,
        }
        Ok(Self {
            service: load(defaults_toml)?,
            auth: load::<AuthSection>(defaults_toml)?.auth,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_clients_sign_in_as_the_settings_say_and_the_password_is_never_printed() {
        let kafka: KafkaSettings = serde_json::from_value(serde_json::json!({
            "brokers": "kafka:9092",
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_username": "order-service",
            "sasl_password": "s3cret-value",
        }))
        .expect("kafka settings");
        let mut config = rdkafka::ClientConfig::new();
        kafka.security().apply(&mut config);
        assert_eq!(config.get("security.protocol"), Some("SASL_PLAINTEXT"));
        assert_eq!(config.get("sasl.mechanism"), Some("SCRAM-SHA-512"));
        assert_eq!(config.get("sasl.username"), Some("order-service"));
        assert_eq!(config.get("sasl.password"), Some("s3cret-value"));
        assert!(!format!("{kafka:?} {:?}", kafka.security()).contains("s3cret"));
        // The relay publishes a source as that service's user, same protocol.
        let relay = kafka.security().as_user("product-service", None);
        let mut config = rdkafka::ClientConfig::new();
        relay.apply(&mut config);
        assert_eq!(config.get("sasl.username"), Some("product-service"));
        assert_eq!(config.get("sasl.password"), None);
        // Nothing set: nothing changes (tansu, the tests).
        let mut config = rdkafka::ClientConfig::new();
        KafkaSettings::new("127.0.0.1:9092")
            .security()
            .apply(&mut config);
        assert_eq!(config.get("security.protocol"), None);
    }

    #[test]
    fn only_the_exact_environment_names_parse() {
        assert_eq!("dev".parse::<Env>().ok(), Some(Env::Dev));
        assert_eq!("test".parse::<Env>().ok(), Some(Env::Test));
        assert_eq!("prod".parse::<Env>().ok(), Some(Env::Prod));
        for name in [
            "production",
            "PROD",
            "Prod",
            "prod ",
            " prod",
            "develop",
            "",
        ] {
            let error = name.parse::<Env>().expect_err(name).to_string();
            assert!(error.contains(&format!("{name:?}")), "{error}");
        }
    }

    #[test]
    fn only_dev_and_test_allow_the_dev_secrets() {
        assert!(Env::Dev.allows_dev_secrets());
        assert!(Env::Test.allows_dev_secrets());
        assert!(!Env::Prod.allows_dev_secrets());
        assert_eq!(Env::default(), Env::Dev);
    }

    #[test]
    fn the_fetch_wait_is_librdkafkas_default_unless_set() {
        let parsed: KafkaSettings =
            serde_json::from_str(r#"{"brokers": "k:9092"}"#).expect("parses");
        assert_eq!(parsed.fetch_wait_max_ms, 500);
        assert_eq!(KafkaSettings::new("k:9092").fetch_wait_max_ms, 500);
        let tansu: KafkaSettings =
            serde_json::from_str(r#"{"brokers": "k:9092", "fetch_wait_max_ms": 10}"#)
                .expect("parses");
        assert_eq!(tansu.fetch_wait(), std::time::Duration::from_millis(10));
    }
}
