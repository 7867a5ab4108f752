//! One saga per test: order-service and product-service on fresh databases, a topic
//! prefix of their own, in-process relays for both outboxes, and dev-key tokens.

use std::time::Duration;

use comanda_kit::auth::{JwtSigner, Role, DEFAULT_AUDIENCE, DEFAULT_ISSUER, DEV_PRIVATE_KEY_PEM};
use comanda_kit::testing::TestApp;
use comanda_kit::workers::CancellationToken;
use comanda_outbox::deadline::SagaSettings;
use comanda_outbox::Envelope;
use comanda_testkit::{eventually, TestEnv};
use rdkafka::producer::{FutureProducer, FutureRecord};
use reqwest::Method;
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use tokio::task::JoinHandle;
use uuid::Uuid;

/// How long a saga step may take before a test fails.
pub const WITHIN: Duration = Duration::from_secs(60);

/// Both services of one test.
pub struct Saga {
    pub env: TestEnv,
    pub orders: TestApp,
    pub products: TestApp,
    order_settings: order_service::settings::Settings,
    product_settings: product_service::settings::Settings,
    orders_running: Option<(CancellationToken, JoinHandle<anyhow::Result<()>>)>,
    products_running: Option<(CancellationToken, JoinHandle<anyhow::Result<()>>)>,
    pub admin: String,
}

/// A running service and how to stop it.
struct Running {
    http: TestApp,
    stop: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

async fn start_orders(settings: order_service::settings::Settings) -> Running {
    let url = settings.service.database.url.expose_secret().to_owned();
    let app = order_service::startup::Application::build(settings)
        .await
        .expect("order-service builds");
    let port = app.port();
    let stop = CancellationToken::new();
    let task = tokio::spawn(app.run_until_stopped(stop.clone().cancelled_owned()));
    Running {
        http: test_app(port, url),
        stop,
        task,
    }
}

async fn start_products(settings: product_service::settings::Settings) -> Running {
    let url = settings.service.database.url.expose_secret().to_owned();
    let app = product_service::startup::Application::build(settings)
        .await
        .expect("product-service builds");
    let port = app.port();
    let stop = CancellationToken::new();
    let task = tokio::spawn(app.run_until_stopped(stop.clone().cancelled_owned()));
    Running {
        http: test_app(port, url),
        stop,
        task,
    }
}

fn test_app(port: u16, url: String) -> TestApp {
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

/// A customer's token.
pub fn customer() -> String {
    token(Uuid::now_v7(), &[Role::User])
}

/// An order body of `(product, quantity)` lines.
pub fn order_body(lines: &[(Uuid, i64)]) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(product_id, quantity)| json!({"product_id": product_id, "quantity": quantity}))
        .collect();
    json!({ "lines": lines })
}

/// The `id` of a JSON object.
pub fn id_of(value: &Value) -> Uuid {
    value["id"].as_str().expect("id").parse().expect("uuid")
}

impl Saga {
    /// Both services running, with relays.
    pub async fn start() -> Self {
        Self::start_with(SagaSettings::default()).await
    }

    /// Both services running, with relays; order-service waits for stock replies as
    /// `saga` says.
    pub async fn start_with(saga: SagaSettings) -> Self {
        Self::start_configured(|settings| settings.saga = saga).await
    }

    /// Both services running, with relays; order-service's settings changed by `configure`.
    pub async fn start_configured(
        configure: impl FnOnce(&mut order_service::settings::Settings),
    ) -> Self {
        let mut env = TestEnv::new().await;
        let mut order_settings =
            order_service::settings::Settings::with_dev_auth(env.service_settings("order").await);
        configure(&mut order_settings);
        let product_settings = product_service::settings::Settings::with_dev_auth(
            env.service_settings("product").await,
        );
        env.relay("orders", &order_settings.service);
        env.relay("products", &product_settings.service);
        // order-service stays up until the test's runtime ends, unless the test stops it.
        let orders = start_orders(order_settings.clone()).await;
        let products = start_products(product_settings.clone()).await;
        Self {
            env,
            orders: orders.http,
            products: products.http,
            order_settings,
            product_settings,
            orders_running: Some((orders.stop, orders.task)),
            products_running: Some((products.stop, products.task)),
            admin: token(Uuid::now_v7(), &[Role::Admin]),
        }
    }

    /// Starts a second order-service instance on the same database and consumer group
    /// (its own deadline worker too), running until the test ends.
    pub async fn second_order_instance(&self) -> TestApp {
        start_orders(self.order_settings.clone()).await.http
    }

    /// Stops order-service (server, consumers and deadline worker) and waits until it
    /// has.
    pub async fn stop_orders(&mut self) {
        let (stop, task) = self.orders_running.take().expect("order-service runs");
        stop.cancel();
        task.await.expect("joins").expect("stops cleanly");
    }

    /// Starts order-service again over the same database and consumer group.
    pub async fn restart_orders(&mut self) {
        let orders = start_orders(self.order_settings.clone()).await;
        self.orders = orders.http;
        self.orders_running = Some((orders.stop, orders.task));
    }

    /// Stops product-service (server and consumers) and waits until it has.
    pub async fn stop_products(&mut self) {
        let (stop, task) = self.products_running.take().expect("product-service runs");
        stop.cancel();
        task.await.expect("joins").expect("stops cleanly");
    }

    /// Starts product-service again over the same database and consumer group.
    pub async fn restart_products(&mut self) {
        let products = start_products(self.product_settings.clone()).await;
        self.products = products.http;
        self.products_running = Some((products.stop, products.task));
    }

    /// Creates a product with `stock` units at `price_cents`; returns its id.
    pub async fn product(&self, stock: i32, price_cents: i64) -> Uuid {
        let sku = format!("SKU-{}", Uuid::now_v7().simple());
        let body = json!({"sku": sku, "name": format!("Dish {}", &sku[4..12]),
            "category": "mains", "price_cents": price_cents, "stock": stock});
        let res = self
            .products
            .client
            .post(format!("{}/api/v1/products", self.products.address))
            .bearer_auth(&self.admin)
            .json(&body)
            .send()
            .await
            .expect("request");
        assert_eq!(res.status().as_u16(), 201);
        id_of(&res.json().await.expect("product"))
    }

    /// `method path` on order-service with `token` and an optional JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self
            .orders
            .client
            .request(method, format!("{}{path}", self.orders.address))
            .bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.expect("request to order-service")
    }

    /// `POST /api/v1/orders` as `token` with `body`, under `Idempotency-Key: key` if given.
    pub async fn post_order(
        &self,
        token: &str,
        key: Option<&str>,
        body: Value,
    ) -> reqwest::Response {
        let mut req = self
            .orders
            .client
            .request(
                Method::POST,
                format!("{}/api/v1/orders", self.orders.address),
            )
            .bearer_auth(token)
            .json(&body);
        if let Some(key) = key {
            req = req.header("Idempotency-Key", key);
        }
        req.send().await.expect("request to order-service")
    }

    /// Places an order as `token`; asserts the 202 and returns the order's id.
    pub async fn place(&self, token: &str, lines: &[(Uuid, i64)]) -> Uuid {
        let res = self
            .call(
                Method::POST,
                "/api/v1/orders",
                token,
                Some(order_body(lines)),
            )
            .await;
        assert_eq!(res.status().as_u16(), 202);
        id_of(&res.json().await.expect("order"))
    }

    /// Cancels order `id` as `token`.
    pub async fn cancel(&self, token: &str, id: Uuid) -> reqwest::Response {
        self.call(
            Method::POST,
            &format!("/api/v1/orders/{id}/cancel"),
            token,
            None,
        )
        .await
    }

    /// A client of order-service's database.
    pub async fn orders_db(&self) -> tokio_postgres::Client {
        self.orders.sql().await
    }

    /// A client of product-service's database.
    pub async fn products_db(&self) -> tokio_postgres::Client {
        self.products.sql().await
    }

    /// The stored status of order `id`.
    pub async fn status(&self, id: Uuid) -> String {
        self.orders_db()
            .await
            .query_one("SELECT status FROM orders WHERE id = $1", &[&id])
            .await
            .expect("order row")
            .get(0)
    }

    /// Waits until order `id` has `status`.
    pub async fn wait_for(&self, id: Uuid, status: &str) {
        eventually(WITHIN, &format!("order {id} is {status}"), || async {
            self.status(id).await == status
        })
        .await;
    }

    /// Stock of product `id`.
    pub async fn stock(&self, id: Uuid) -> i32 {
        self.products_db()
            .await
            .query_one("SELECT stock FROM products WHERE id = $1", &[&id])
            .await
            .expect("product row")
            .get(0)
    }

    /// Status of order `id`'s reservation in product-service, if any.
    pub async fn reservation(&self, id: Uuid) -> Option<String> {
        self.products_db()
            .await
            .query_opt(
                "SELECT status FROM reservations WHERE order_id = $1",
                &[&id],
            )
            .await
            .expect("query")
            .map(|row| row.get(0))
    }

    /// `SELECT count(*)` in product-service's database.
    pub async fn count_products(&self, sql: &str) -> i64 {
        self.products_db()
            .await
            .query_one(sql, &[])
            .await
            .expect("count")
            .get(0)
    }

    /// Publishes again, as Kafka may redeliver, the event of `event_type` order-service
    /// wrote for order `id` (same event id, same key).
    pub async fn redeliver(&self, event_type: &str, id: Uuid) {
        let row = self
            .orders_db()
            .await
            .query_one(
                "SELECT topic, payload FROM outbox WHERE event_type = $1 AND kafka_key = $2",
                &[&event_type, &id.to_string()],
            )
            .await
            .expect("outbox row");
        let (topic, payload): (String, Value) = (row.get(0), row.get(1));
        let producer: FutureProducer = comanda_outbox::kafka::producer_config(&self.env.brokers)
            .create()
            .expect("producer");
        let bytes = serde_json::to_vec(&payload).expect("JSON");
        let key = id.to_string();
        producer
            .send(
                FutureRecord::to(&topic).key(&key).payload(&bytes),
                Duration::from_secs(10),
            )
            .await
            .expect("broker acks");
    }

    /// Publishes `event` on catalogued topic `name` (keyed by its aggregate), as its
    /// producer's relay would.
    pub async fn publish(&self, name: &str, event: &Envelope) {
        let producer: FutureProducer = comanda_outbox::kafka::producer_config(&self.env.brokers)
            .create()
            .expect("producer");
        let bytes = serde_json::to_vec(event).expect("JSON");
        producer
            .send(
                FutureRecord::to(&self.env.topic(name))
                    .key(&event.aggregate_id)
                    .payload(&bytes),
                Duration::from_secs(10),
            )
            .await
            .expect("broker acks");
    }

    /// How many messages of catalogued topic `name` product-service's inbox skipped as
    /// duplicates (its `/metrics`).
    pub async fn duplicates_skipped(&self, name: &str) -> u64 {
        duplicates_skipped(&self.products, &self.env, "product-service", name).await
    }

    /// How many messages of catalogued topic `name` order-service's inbox skipped as
    /// duplicates (its `/metrics`).
    pub async fn orders_duplicates_skipped(&self, name: &str) -> u64 {
        duplicates_skipped(&self.orders, &self.env, "order-service", name).await
    }
}

/// How many messages of catalogued topic `name` the inbox of `group` in `app` skipped
/// as duplicates (its `/metrics`).
async fn duplicates_skipped(app: &TestApp, env: &TestEnv, group: &str, name: &str) -> u64 {
    let text = app.get("/metrics").await.text().await.expect("metrics");
    let consumer = format!("consumer=\"{}{group}\"", env.prefix);
    let topic = format!("topic=\"{}\"", env.topic(name));
    text.lines()
        .filter(|l| l.starts_with("inbox_messages_total{"))
        .filter(|l| l.contains(&consumer) && l.contains(&topic))
        .filter(|l| l.contains("outcome=\"duplicate\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}
