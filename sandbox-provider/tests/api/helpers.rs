//! Spawning the sandbox for a test, and calling its API.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use sandbox_provider::settings::Settings;
use sandbox_provider::startup::Application;
use sandbox_provider::webhooks::Event;
use serde_json::{json, Value};

use crate::receiver::Receiver;

/// How long a test waits for something eventual (a webhook, a delayed charge): long
/// enough for a loaded CI machine, never reached when things work.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// The signing secret of tests that do not configure their own.
pub const SECRET: &str = "whsec_test";

/// A sandbox running for one test.
pub struct Sandbox {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    client: reqwest::Client,
}

/// Test settings: port 0, a short delayed card, quick retries, webhooks to `receiver`.
pub fn settings(receiver: Option<&Receiver>) -> Settings {
    comanda_kit::telemetry::init_for_tests();
    let mut settings = Settings::defaults().expect("the defaults load");
    settings.env = comanda_kit::settings::Env::Test;
    settings.http.port = 0;
    settings.delayed_success_ms = 300;
    settings.webhook.url = receiver.map(|r| r.url.clone()).unwrap_or_default();
    settings.webhook.secrets = vec![SECRET.to_owned().into()];
    settings.webhook.retry_initial_ms = 50;
    settings.webhook.retry_max_ms = 400;
    settings
}

/// Starts a sandbox with `settings`.
pub async fn spawn_with(settings: Settings) -> Sandbox {
    let app = Application::build(settings)
        .await
        .expect("the sandbox builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    Sandbox {
        address,
        client: reqwest::Client::new(),
    }
}

/// Starts a sandbox with the test settings, its webhooks going to `receiver`.
pub async fn spawn_sandbox(receiver: Option<&Receiver>) -> Sandbox {
    spawn_with(settings(receiver)).await
}

/// A status and a JSON body (`Null` when there is none).
pub struct Answer {
    /// HTTP status.
    pub status: StatusCode,
    /// The body.
    pub body: Value,
}

impl Answer {
    /// The problem `code` of an error answer.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    /// `body[field]` as a string.
    pub fn str(&self, field: &str) -> &str {
        self.body[field].as_str().unwrap_or_default()
    }
}

/// A session body for `amount_cents` EUR expiring in 15 minutes.
pub fn session_body(reference: &str, amount_cents: i64) -> Value {
    session_body_expiring(
        reference,
        amount_cents,
        Utc::now() + chrono::Duration::minutes(15),
    )
}

/// A session body expiring at `expires_at`.
pub fn session_body_expiring(
    reference: &str,
    amount_cents: i64,
    expires_at: DateTime<Utc>,
) -> Value {
    json!({
        "amount_cents": amount_cents,
        "currency": "EUR",
        "reference": reference,
        "expires_at": expires_at.to_rfc3339(),
    })
}

impl Sandbox {
    async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("the sandbox answers");
        let status = response.status();
        let text = response.text().await.expect("a body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer { status, body }
    }

    /// `POST /v1/checkout/sessions` with `key` (none when `None`).
    pub async fn create_session_with(&self, key: Option<&str>, body: &Value) -> Answer {
        let mut request = self
            .client
            .post(format!("{}/v1/checkout/sessions", self.address))
            .json(body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        self.send(request).await
    }

    /// A new session of `amount_cents` referenced `reference` (its key too); its id.
    pub async fn open_session(&self, reference: &str, amount_cents: i64) -> String {
        let answer = self
            .create_session_with(Some(reference), &session_body(reference, amount_cents))
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        answer.str("id").to_owned()
    }

    /// `GET path` as JSON, which must answer 200.
    pub async fn get_json(&self, path: &str) -> Value {
        let answer = self
            .send(self.client.get(format!("{}{path}", self.address)))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.body
    }

    /// `GET /v1/checkout/sessions/{id}`.
    pub async fn session(&self, id: &str) -> Answer {
        let url = format!("{}/v1/checkout/sessions/{id}", self.address);
        self.send(self.client.get(url)).await
    }

    /// The status of session `id`.
    pub async fn status(&self, id: &str) -> String {
        self.session(id).await.str("status").to_owned()
    }

    /// `POST /v1/checkout/sessions/{id}/void`.
    pub async fn void(&self, id: &str) -> Answer {
        let url = format!("{}/v1/checkout/sessions/{id}/void", self.address);
        self.send(self.client.post(url)).await
    }

    /// `POST /checkout/{id}/pay` with `card`.
    pub async fn pay(&self, id: &str, card: &str) -> Answer {
        let url = format!("{}/checkout/{id}/pay", self.address);
        self.send(self.client.post(url).json(&json!({ "card_number": card })))
            .await
    }

    /// `POST /v1/refunds` with `key`.
    pub async fn refund(&self, key: &str, session_id: &str, amount_cents: i64) -> Answer {
        let url = format!("{}/v1/refunds", self.address);
        let body = json!({ "session_id": session_id, "amount_cents": amount_cents });
        self.send(
            self.client
                .post(url)
                .header("Idempotency-Key", key)
                .json(&body),
        )
        .await
    }

    /// `GET` of `path`, as text.
    pub async fn get_text(&self, path: &str) -> (StatusCode, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("the sandbox answers");
        let status = response.status();
        (status, response.text().await.expect("a body"))
    }

    /// Waits until session `id` has `status`.
    pub async fn wait_for_status(&self, id: &str, status: &str) {
        comanda_testkit::eventually(PATIENCE, &format!("session {id} is {status}"), || async {
            self.status(id).await == status
        })
        .await;
    }
}

/// Waits until `receiver` accepted `count` events, and returns them.
pub async fn accepted_events(receiver: &Receiver, count: usize) -> Vec<Event> {
    comanda_testkit::eventually(
        PATIENCE,
        &format!("{count} events are accepted"),
        || async { receiver.accepted().len() >= count },
    )
    .await;
    receiver.accepted()
}

/// A barrier: pays a fresh session with 4242 and waits for its completed event.
/// Deliveries keep queue order (with a receiver that accepts everything), so every
/// event queued before the barrier has arrived once it has: what has not, never will.
pub async fn barrier(sandbox: &Sandbox, receiver: &Receiver) {
    let reference = format!("barrier-{}", uuid::Uuid::new_v4());
    let id = sandbox.open_session(&reference, 100).await;
    assert_eq!(
        sandbox.pay(&id, "4242424242424242").await.status,
        StatusCode::OK
    );
    comanda_testkit::eventually(PATIENCE, "the barrier event arrives", || async {
        receiver
            .accepted()
            .iter()
            .any(|event| event.data.session_id == id)
    })
    .await;
}
