//! Spawning product-service for a test, tokens, database reads and raw Kafka sends.

use std::time::Duration;

use comanda_kit::auth::{JwtSigner, Role, DEFAULT_AUDIENCE, DEFAULT_ISSUER, DEV_PRIVATE_KEY_PEM};
use comanda_kit::testing::TestApp;
use comanda_outbox::Envelope;
use comanda_testkit::TestEnv;
use product_service::settings::Settings;
use product_service::startup::Application;
use rdkafka::producer::{FutureProducer, FutureRecord};
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use uuid::Uuid;

/// product-service running for one test, with its test environment.
pub struct App {
    pub http: TestApp,
    pub env: TestEnv,
    pub admin: String,
}

/// Starts product-service (env `test`) with a fresh database and topic prefix.
pub async fn spawn_app() -> App {
    let env = TestEnv::new().await;
    let settings = Settings::with_dev_auth(env.service_settings("product").await);
    spawn_with(env, settings).await
}

/// Starts product-service with `settings` in `env`.
pub async fn spawn_with(env: TestEnv, settings: Settings) -> App {
    let http = start(settings).await;
    App {
        http,
        env,
        admin: token(Uuid::now_v7(), &[Role::Admin]),
    }
}

/// Builds and runs product-service until the test ends.
pub async fn start(settings: Settings) -> TestApp {
    let url = settings.service.database.url.expose_secret().to_owned();
    let app = Application::build(settings)
        .await
        .expect("product-service builds");
    let port = app.port();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        client: reqwest::Client::new(),
        database_url: Some(url),
    }
}

/// A dev-key access token for `sub` with `roles`.
pub fn token(sub: Uuid, roles: &[Role]) -> String {
    let signer = JwtSigner::from_private_pem(
        DEV_PRIVATE_KEY_PEM,
        DEFAULT_ISSUER,
        DEFAULT_AUDIENCE,
        Duration::from_secs(600),
    )
    .expect("dev key");
    signer.sign(sub, roles).expect("signs").0
}

/// A product body with `sku` and `stock`.
pub fn product(sku: &str, stock: i32) -> Value {
    json!({
        "sku": sku, "name": format!("Dish {sku}"), "category": "mains",
        "price_cents": 1000, "stock": stock
    })
}

impl App {
    /// `method path` with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self
            .http
            .client
            .request(method, format!("{}{path}", self.http.address));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.expect("request to product-service")
    }

    /// `POST /api/v1/products` with `body` as admin, whatever the answer.
    pub async fn post_product(&self, body: Value) -> reqwest::Response {
        self.call(
            reqwest::Method::POST,
            "/api/v1/products",
            Some(&self.admin),
            Some(body),
        )
        .await
    }

    /// Creates a product as admin; returns its JSON.
    pub async fn create(&self, body: Value) -> Value {
        let res = self.post_product(body).await;
        assert_eq!(res.status().as_u16(), 201);
        res.json().await.expect("product JSON")
    }

    /// A client of the service's database.
    pub async fn db(&self) -> tokio_postgres::Client {
        self.http.sql().await
    }

    /// `SELECT count(*) ...` with `params`.
    pub async fn count(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> i64 {
        self.db()
            .await
            .query_one(sql, params)
            .await
            .expect("count")
            .get(0)
    }

    /// Stock of product `id`.
    pub async fn stock(&self, id: Uuid) -> i32 {
        self.db()
            .await
            .query_one("SELECT stock FROM products WHERE id = $1", &[&id])
            .await
            .expect("product row")
            .get(0)
    }

    /// Status of `order_id`'s reservation, if any.
    pub async fn reservation(&self, order_id: Uuid) -> Option<String> {
        self.db()
            .await
            .query_opt(
                "SELECT status FROM reservations WHERE order_id = $1",
                &[&order_id],
            )
            .await
            .expect("query")
            .map(|row| row.get(0))
    }

    /// Publishes `event` on catalogued topic `name` of this test, as another service would.
    pub async fn send(&self, name: &str, event: &Envelope) {
        let producer: FutureProducer = comanda_outbox::kafka::producer_config(&self.env.brokers)
            .create()
            .expect("producer");
        let payload = serde_json::to_vec(event).expect("envelope JSON");
        producer
            .send(
                FutureRecord::to(&self.env.topic(name))
                    .key(&event.aggregate_id)
                    .payload(&payload),
                Duration::from_secs(10),
            )
            .await
            .expect("broker acks");
    }
}

/// Parses a UUID field of a JSON value.
pub fn id_of(value: &Value) -> Uuid {
    value["id"].as_str().expect("id").parse().expect("uuid")
}
