//! One payment-service per test, on a fresh database and a topic prefix of its own,
//! with an in-process relay, and the sandbox provider in-process as a real HTTP peer.
//!
//! payment-service calls the sandbox through a recording proxy ([`super::proxy`]) on a
//! port reserved up front: the proxy forwards every call unchanged and notes what the
//! sandbox answered (201 for a session or refund it made, 200 for a replay), so tests
//! count what the provider really did. A test that wants the provider down starts
//! without the proxy: nothing listens on that port until [`Payments::provider_up`].
//! The sandbox's webhooks go straight to payment-service, signed with [`SECRET`].

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use comanda_kit::auth::Role;
use comanda_kit::testing::TestApp;
use comanda_outbox::{topics, Envelope};
use comanda_testkit::{eventually, tokens, TestEnv};
use payment_service::settings::{ProviderSettings, Settings};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use sandbox_provider::processor::Processor;
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::proxy::Proxy;

/// How long a step may take before a test fails.
pub const WITHIN: Duration = Duration::from_secs(60);
/// The webhook secret the sandbox signs with and payment-service accepts.
pub const SECRET: &str = "whsec_test_current";
/// A secret payment-service no longer accepts (rotated out).
pub const RETIRED_SECRET: &str = "whsec_test_retired";
/// The webhook route.
pub const WEBHOOK: &str = "/api/v1/payments/webhooks/sandbox";

/// The test cards.
pub const CARD_OK: &str = "4242 4242 4242 4242";
pub const CARD_DECLINED: &str = "4000 0000 0000 0002";
pub const CARD_DELAYED: &str = "4000 0000 0000 3220";

/// payment-service, the sandbox and the proxy between them, for one test.
pub struct Payments {
    pub env: TestEnv,
    /// payment-service.
    pub app: TestApp,
    /// The sandbox's own address (its API, checkout pages).
    pub sandbox: String,
    /// The sandbox's state (completes delayed charges when a test says so).
    pub processor: Arc<Processor>,
    /// What payment-service called at the provider (once it is up).
    proxy: Option<Proxy>,
    proxy_port: u16,
    client: reqwest::Client,
    pub admin: String,
}

/// A port nothing listens on (until someone binds it).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binds a free port");
    listener.local_addr().expect("address").port()
}

/// How a test sets payment-service up.
pub struct Setup {
    /// Whether the provider answers from the start.
    pub provider_up: bool,
    /// payment-service's provider call timeout.
    pub request_timeout_ms: u64,
    /// The sandbox sends every webhook twice (same event id).
    pub duplicate_webhooks: bool,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            provider_up: true,
            request_timeout_ms: 5_000,
            duplicate_webhooks: false,
        }
    }
}

impl Payments {
    /// Everything running.
    pub async fn start() -> Self {
        Self::start_with(Setup::default()).await
    }

    /// Started as `setup` says.
    pub async fn start_with(setup: Setup) -> Self {
        let mut env = TestEnv::new().await;
        let proxy_port = free_port();
        let mut provider = ProviderSettings::new(format!("http://127.0.0.1:{proxy_port}"), SECRET);
        provider.request_timeout_ms = setup.request_timeout_ms;
        let mut settings = Settings::with_dev_auth(env.service_settings("payment").await, provider);
        settings.saga.poll_interval_ms = 50;
        env.relay("payments", &settings.service);
        let url = settings.service.database.url.expose_secret().to_owned();
        let app = payment_service::startup::Application::build(settings)
            .await
            .expect("payment-service builds");
        let port = app.port();
        // Runs until the test's runtime ends.
        tokio::spawn(app.run_until_stopped(std::future::pending()));
        let app = TestApp {
            address: format!("http://127.0.0.1:{port}"),
            port,
            client: reqwest::Client::new(),
            database_url: Some(url),
        };
        let webhook_url = format!("{}{WEBHOOK}", app.address);
        let (sandbox, processor) = start_sandbox(&webhook_url, setup.duplicate_webhooks).await;
        let mut payments = Self {
            env,
            app,
            sandbox,
            processor,
            proxy: None,
            proxy_port,
            client: reqwest::Client::new(),
            admin: tokens::valid(Uuid::now_v7(), &[Role::Admin]),
        };
        if setup.provider_up {
            payments.provider_up().await;
        }
        payments
    }

    /// The provider starts answering payment-service: the proxy to the sandbox binds
    /// the reserved port.
    pub async fn provider_up(&mut self) {
        let proxy = Proxy::start(self.proxy_port, &self.sandbox).await;
        self.proxy = Some(proxy);
    }

    /// The proxy in front of the sandbox.
    pub fn proxy(&self) -> &Proxy {
        self.proxy.as_ref().expect("the provider is up")
    }

    /// Publishes `data` as event `event_type` about order `order_id` on its topic, as
    /// order-service's relay would; returns the envelope.
    pub async fn publish(&self, event_type: &str, order_id: Uuid, data: Value) -> Envelope {
        let event = Envelope::new(event_type, 1, "order-service", order_id.to_string(), data);
        let producer: FutureProducer = comanda_outbox::kafka::producer_config(&self.env.brokers)
            .create()
            .expect("producer");
        let bytes = serde_json::to_vec(&event).expect("JSON");
        let key = order_id.to_string();
        let topic = self.env.topic(event_type);
        producer
            .send(
                FutureRecord::to(&topic).key(&key).payload(&bytes),
                Duration::from_secs(10),
            )
            .await
            .expect("broker acks");
        event
    }

    /// `payment.requested` for order `order_id` of `user_id`, `amount_cents` EUR, to be
    /// paid within the hour.
    pub async fn request(&self, order_id: Uuid, user_id: Uuid, amount_cents: i64) -> Envelope {
        let pay_by = Utc::now() + chrono::Duration::hours(1);
        self.publish(
            topics::PAYMENT_REQUESTED,
            order_id,
            json!({"order_id": order_id, "user_id": user_id, "amount_cents": amount_cents,
                "currency": "EUR", "pay_by": pay_by}),
        )
        .await
    }

    /// `order.cancelled` for order `order_id`.
    pub async fn cancel(&self, order_id: Uuid, reason: &str) -> Envelope {
        self.publish(
            topics::ORDER_CANCELLED,
            order_id,
            json!({"order_id": order_id, "reason": reason}),
        )
        .await
    }

    /// A client of payment-service's database.
    pub async fn db(&self) -> tokio_postgres::Client {
        self.app.sql().await
    }

    /// `SELECT count(*)` (or any one bigint) in payment-service's database.
    pub async fn count(&self, sql: &str) -> i64 {
        self.db()
            .await
            .query_one(sql, &[])
            .await
            .expect("count")
            .get(0)
    }

    /// The status of order `order_id`'s payment, if it has one.
    pub async fn status(&self, order_id: Uuid) -> Option<String> {
        self.db()
            .await
            .query_opt(
                "SELECT status FROM payments WHERE order_id = $1",
                &[&order_id],
            )
            .await
            .expect("query")
            .map(|row| row.get(0))
    }

    /// Waits until order `order_id`'s payment is `status`.
    pub async fn wait_for(&self, order_id: Uuid, status: &str) {
        eventually(
            WITHIN,
            &format!("order {order_id}'s payment is {status}"),
            || async { self.status(order_id).await.as_deref() == Some(status) },
        )
        .await;
    }

    /// The `data` of every event of `event_type` in the outbox about order `order_id`.
    pub async fn outbox(&self, event_type: &str, order_id: Uuid) -> Vec<Value> {
        self.db()
            .await
            .query(
                "SELECT payload::jsonb FROM outbox WHERE event_type = $1 AND kafka_key = $2 \
                 ORDER BY id",
                &[&event_type, &order_id.to_string()],
            )
            .await
            .expect("outbox rows")
            .iter()
            .map(|row| row.get::<_, Value>(0)["data"].clone())
            .collect()
    }

    /// Waits for the first event of `event_type` about order `order_id` in the outbox;
    /// returns its `data`.
    pub async fn wait_for_event(&self, event_type: &str, order_id: Uuid) -> Value {
        eventually(
            WITHIN,
            &format!("{event_type} of {order_id} is written"),
            || async { !self.outbox(event_type, order_id).await.is_empty() },
        )
        .await;
        self.outbox(event_type, order_id).await.remove(0)
    }

    /// The provider's session id of order `order_id`'s payment, once it has one.
    pub async fn session_id(&self, order_id: Uuid) -> String {
        self.wait_for_event(topics::PAYMENT_CREATED, order_id).await;
        self.db()
            .await
            .query_one(
                "SELECT session_id FROM payments WHERE order_id = $1",
                &[&order_id],
            )
            .await
            .expect("payment row")
            .get(0)
    }

    /// Enters `card` on the sandbox's checkout of session `session_id`.
    pub async fn pay(&self, session_id: &str, card: &str) -> reqwest::Response {
        self.client
            .post(format!("{}/checkout/{session_id}/pay", self.sandbox))
            .json(&json!({"card_number": card}))
            .send()
            .await
            .expect("request to the sandbox")
    }

    /// The sandbox's view of session `session_id`.
    pub async fn session(&self, session_id: &str) -> Value {
        self.client
            .get(format!(
                "{}/v1/checkout/sessions/{session_id}",
                self.sandbox
            ))
            .send()
            .await
            .expect("request to the sandbox")
            .json()
            .await
            .expect("a session")
    }

    /// POSTs `body` to the webhook with `signature` (if any) as `Sandbox-Signature`.
    pub async fn post_webhook(&self, body: &[u8], signature: Option<&str>) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}{WEBHOOK}", self.app.address))
            .header("Content-Type", "application/json")
            .body(body.to_vec());
        if let Some(signature) = signature {
            request = request.header("Sandbox-Signature", signature);
        }
        request.send().await.expect("request to payment-service")
    }

    /// payment-service's `/metrics` (the process's: the sandbox's are in it too).
    pub async fn metrics(&self) -> String {
        self.app
            .get("/metrics")
            .await
            .text()
            .await
            .expect("metrics")
    }

    /// GET `path` on payment-service as `token`.
    pub async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.app.address))
            .bearer_auth(token)
            .send()
            .await
            .expect("request to payment-service")
    }

    /// Requests a payment of `amount_cents` for a new order of a new customer and
    /// waits until its session is open; returns (order, customer, session id).
    pub async fn open_payment(&self, amount_cents: i64) -> (Uuid, Uuid, String) {
        let (order_id, user_id) = (Uuid::now_v7(), Uuid::now_v7());
        self.request(order_id, user_id, amount_cents).await;
        let session_id = self.session_id(order_id).await;
        self.wait_for(order_id, "PENDING").await;
        (order_id, user_id, session_id)
    }

    /// Reads `topic` from the beginning until a record keyed `key` arrives; returns
    /// its envelope.
    pub async fn consume(&self, event_type: &str, key: Uuid) -> Value {
        let topic = self.env.topic(event_type);
        let consumer: StreamConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.env.brokers)
            .set("group.id", format!("reader-{}", Uuid::new_v4().simple()))
            .set("enable.auto.commit", "false")
            .create()
            .expect("consumer");
        let mut partitions = TopicPartitionList::new();
        for partition in 0..topics::PARTITIONS {
            partitions
                .add_partition_offset(&topic, partition, Offset::Beginning)
                .expect("partition");
        }
        consumer.assign(&partitions).expect("assigns");
        let key = key.to_string();
        let found = tokio::time::timeout(WITHIN, async {
            loop {
                let message = consumer.recv().await.expect("reads the topic");
                if message.key() == Some(key.as_bytes()) {
                    return serde_json::from_slice::<Value>(message.payload().unwrap_or_default())
                        .expect("an envelope");
                }
            }
        })
        .await;
        found.unwrap_or_else(|_| panic!("no {event_type} keyed {key} on the broker"))
    }
}

/// Starts the sandbox on a port of its own, delivering webhooks to `webhook_url`
/// signed with [`SECRET`] (each twice with `duplicate`); the delayed card completes
/// only when a test says so.
async fn start_sandbox(webhook_url: &str, duplicate: bool) -> (String, Arc<Processor>) {
    let mut settings = sandbox_provider::settings::Settings::defaults().expect("defaults");
    settings.env = comanda_kit::settings::Env::Test;
    settings.http.host = "127.0.0.1".to_owned();
    settings.http.port = 0;
    settings.delayed_success_ms = 3_600_000;
    settings.webhook.url = webhook_url.to_owned();
    settings.webhook.secrets = vec![SECRET.to_owned().into()];
    settings.webhook.retry_initial_ms = 50;
    settings.webhook.retry_max_ms = 1_000;
    settings.webhook.duplicate = duplicate;
    let app = sandbox_provider::startup::Application::build(settings)
        .await
        .expect("the sandbox builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let processor = app.processor();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    (address, processor)
}

/// A webhook body as the sandbox would send it.
pub fn webhook_body(
    event_id: &str,
    event_type: &str,
    session_id: &str,
    reference: Uuid,
    amount_cents: i64,
) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": event_id,
        "type": event_type,
        "created": Utc::now().timestamp(),
        "data": {"session_id": session_id, "reference": reference.to_string(),
            "amount_cents": amount_cents, "currency": "EUR"},
    }))
    .expect("JSON")
}

/// `Sandbox-Signature` for `body` signed at `at` with `secrets`.
pub fn signature(body: &[u8], secrets: &[&str], at: DateTime<Utc>) -> String {
    sandbox_provider::signature::sign_header(secrets, at.timestamp(), body)
}

/// The id of order `order_id`'s payment.
pub async fn payment_id(payments: &Payments, order_id: Uuid) -> Uuid {
    payments
        .db()
        .await
        .query_one("SELECT id FROM payments WHERE order_id = $1", &[&order_id])
        .await
        .expect("payment row")
        .get(0)
}

/// A customer's token.
pub fn customer(id: Uuid) -> String {
    tokens::valid(id, &[Role::User])
}
