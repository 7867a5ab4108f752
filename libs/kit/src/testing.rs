//! Helpers for integration tests (feature `testing`): every test gets its own database and
//! its own server on a free port, so tests run in parallel without sharing state.
//!
//! Helpers panic instead of returning errors: a failed set-up should fail the test loudly.

use std::future::Future;
use std::str::FromStr;

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use uuid::Uuid;

use crate::db;
use crate::http::Server;
use crate::settings::{DatabaseSettings, HttpSettings, KafkaSettings, ServiceSettings};

/// Environment variable with an admin URL of the test Postgres server.
pub const ADMIN_URL_VAR: &str = "DATABASE_ADMIN_URL";
/// Admin URL used when `DATABASE_ADMIN_URL` is unset.
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Environment variable with the test Kafka bootstrap servers.
pub const BROKERS_VAR: &str = "KAFKA_BROKERS";
/// Brokers used when `KAFKA_BROKERS` is unset.
pub const DEFAULT_BROKERS: &str = "127.0.0.1:9092";

/// Creates an empty database named `test_<prefix>_<uuid>` and returns its URL.
pub async fn fresh_database(prefix: &str) -> String {
    let admin = std::env::var(ADMIN_URL_VAR).unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned());
    let prefix: String = prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(24)
        .collect();
    // `test_` lets `cargo xtask test` drop what earlier runs left. Postgres truncates
    // identifiers at 63 bytes; 5 + 24 + 1 + 32 stays below.
    let name = format!("test_{prefix}_{}", Uuid::new_v4().simple());
    let url = db::with_database_name(&admin, &name).expect("DATABASE_ADMIN_URL is a postgres URL");
    db::create_database_if_missing(&url)
        .await
        .expect("creating the test database (is Postgres running?)");
    url
}

/// The Kafka bootstrap servers for tests.
pub fn kafka_brokers() -> String {
    std::env::var(BROKERS_VAR).unwrap_or_else(|_| DEFAULT_BROKERS.to_owned())
}

/// Test logging: printed with `TEST_LOG=1`, silent otherwise.
pub fn init_test_logs() {
    crate::telemetry::init_for_tests();
}

/// Settings of a service under test: a fresh database, port 0, no Kafka readiness check.
pub async fn service_settings(db_prefix: &str) -> ServiceSettings {
    init_test_logs();
    ServiceSettings {
        env: crate::settings::Env::Test,
        http: HttpSettings {
            host: "127.0.0.1".to_owned(),
            port: 0,
        },
        database: DatabaseSettings {
            url: SecretString::from(fresh_database(db_prefix).await),
            pool_size: 5,
        },
        kafka: KafkaSettings {
            ready_check: false,
            ..KafkaSettings::new(kafka_brokers())
        },
    }
}

/// Builds a service with [`service_settings`] and `build` (its `startup::build`), and spawns it.
pub async fn spawn_service<F, Fut>(db_prefix: &str, build: F) -> TestApp
where
    F: FnOnce(ServiceSettings) -> Fut,
    Fut: Future<Output = anyhow::Result<Server>>,
{
    let settings = service_settings(db_prefix).await;
    let url = settings.database.url.expose_secret().to_owned();
    let server = build(settings).await.expect("the service builds");
    TestApp::spawn(server).with_database(url)
}

/// A server running in the background of a test, with a client and its database URL.
pub struct TestApp {
    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub address: String,
    /// The bound port.
    pub port: u16,
    /// HTTP client for requests to `address`.
    pub client: reqwest::Client,
    /// The app's database, when it has one.
    pub database_url: Option<String>,
}

impl TestApp {
    /// Runs `server` on the test's runtime until the test ends.
    pub fn spawn(server: Server) -> Self {
        let port = server.port();
        tokio::spawn(server.run_until_stopped(std::future::pending()));
        Self {
            address: format!("http://127.0.0.1:{port}"),
            port,
            client: reqwest::Client::new(),
            database_url: None,
        }
    }

    /// Records the app's database so the table and migration helpers can query it.
    pub fn with_database(mut self, url: impl Into<String>) -> Self {
        self.database_url = Some(url.into());
        self
    }

    /// `GET address + path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request to the test app")
    }

    /// Names of the tables in the app database's `public` schema.
    pub async fn tables(&self) -> Vec<String> {
        self.strings(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
        )
        .await
    }

    /// Versions recorded by diesel's migration harness, oldest first.
    pub async fn applied_migrations(&self) -> Vec<String> {
        self.strings("SELECT version FROM __diesel_schema_migrations ORDER BY version")
            .await
    }

    /// Asserts what every database-backed service offers once booted: the outbox and inbox
    /// tables exist, the service's own migration `own_version` was applied too, and
    /// `/ready` is 200 with a passing database check.
    pub async fn assert_booted_with_outbox(&self, own_version: &str) {
        let tables = self.tables().await;
        for table in ["outbox", "processed_messages"] {
            assert!(
                tables.iter().any(|t| t == table),
                "table {table} missing: {tables:?}"
            );
        }
        let applied = self.applied_migrations().await;
        assert!(
            applied.iter().any(|v| v == own_version),
            "migration {own_version} not applied: {applied:?}"
        );
        let res = self.get("/ready").await;
        assert_eq!(res.status().as_u16(), 200, "/ready failed");
        let body: Value = res.json().await.expect("/ready body is JSON");
        assert_eq!(body["checks"]["database"], "ok", "{body}");
    }

    /// Asserts `GET /openapi.json` is a public OpenAPI 3 document documenting every
    /// operation in `operations` (`("post", "/api/v1/orders/{id}/cancel")`, …) and
    /// the bearer scheme; returns the document.
    pub async fn assert_documents(&self, operations: &[(&str, &str)]) -> Value {
        let res = self.get(crate::openapi::OPENAPI_PATH).await;
        assert_eq!(res.status().as_u16(), 200, "/openapi.json failed");
        let doc: Value = res.json().await.expect("/openapi.json body is JSON");
        let version = doc["openapi"].as_str().unwrap_or_default();
        assert!(version.starts_with("3."), "not OpenAPI 3: {version:?}");
        for (method, path) in operations {
            assert!(
                doc["paths"][path][method].is_object(),
                "{method} {path} is not documented"
            );
        }
        assert_eq!(
            doc["components"]["securitySchemes"][crate::openapi::BEARER_AUTH]["scheme"],
            "bearer"
        );
        doc
    }

    /// Asserts every path of `GET /openapi.json` (a UUID for each `{param}`) answers a
    /// method it does not document (`TRACE`) with a 405 `method_not_allowed` problem whose
    /// `Allow` header names exactly the documented methods.
    pub async fn assert_undeclared_methods_are_405(&self) {
        let doc: Value = self
            .get(crate::openapi::OPENAPI_PATH)
            .await
            .json()
            .await
            .expect("/openapi.json body is JSON");
        let paths = doc["paths"].as_object().expect("documented paths");
        assert!(!paths.is_empty());
        for (template, item) in paths {
            let path: String = template
                .split('/')
                .map(|segment| {
                    if segment.starts_with('{') {
                        Uuid::new_v4().to_string()
                    } else {
                        segment.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let res = self
                .client
                .request(reqwest::Method::TRACE, format!("{}{path}", self.address))
                .send()
                .await
                .expect("request");
            let status = res.status().as_u16();
            let allow = res
                .headers()
                .get("allow")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let body: Value = res.json().await.unwrap_or_default();
            assert_eq!(
                (status, body["code"].as_str()),
                (405, Some("method_not_allowed")),
                "TRACE {path}: {body}"
            );
            let mut allowed: Vec<String> = allow
                .split(',')
                .map(|m| m.trim().to_lowercase())
                .filter(|m| !m.is_empty())
                .collect();
            allowed.sort();
            let mut documented: Vec<String> = item
                .as_object()
                .expect("a path item")
                .keys()
                .filter(|k| ["get", "put", "post", "delete", "patch"].contains(&k.as_str()))
                .cloned()
                .collect();
            documented.sort();
            assert_eq!(allowed, documented, "Allow of {template}");
        }
    }

    async fn strings(&self, sql: &str) -> Vec<String> {
        let rows = self.sql().await.query(sql, &[]).await.expect("test query");
        rows.iter().map(|row| row.get(0)).collect()
    }

    /// A plain SQL connection to the app's database, for tests that look at rows
    /// directly; its connection task runs on the test's runtime.
    pub async fn sql(&self) -> tokio_postgres::Client {
        let url = self
            .database_url
            .as_deref()
            .expect("TestApp::with_database was not called");
        let config = tokio_postgres::Config::from_str(url).expect("database URL");
        let (client, connection) = config
            .connect(tokio_postgres::NoTls)
            .await
            .expect("connect to the test database");
        tokio::spawn(connection);
        client
    }
}
