//! Spawning auth-service (and user-service, for flow tests) with relays on one test's
//! topics, and reading their databases.

use std::str::FromStr;
use std::time::Duration;

use auth_service::settings::Settings;
use comanda_kit::settings::ServiceSettings;
use comanda_kit::testing::TestApp;
use comanda_outbox::deadline::SagaSettings;
use comanda_testkit::TestEnv;
use reqwest::Response;
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use uuid::Uuid;

/// How long a flow through Kafka may take in a test.
pub const FLOW: Duration = Duration::from_secs(30);
/// A password that passes validation.
pub const PASSWORD: &str = "correct horse battery";

/// auth-service, maybe user-service, and the relays publishing their outboxes.
pub struct Stack {
    /// The test's broker slice and relays.
    pub env: TestEnv,
    /// auth-service, running.
    pub auth: TestApp,
    /// auth-service's settings (its database, for direct checks).
    pub auth_settings: Settings,
    /// user-service, once started.
    pub user: Option<TestApp>,
}

/// Runs a built service until the test ends and describes it as a [`TestApp`].
fn serve<F>(port: u16, run: F, settings: &ServiceSettings) -> TestApp
where
    F: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    tokio::spawn(run);
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        client: reqwest::Client::new(),
        database_url: None,
    }
    .with_database(settings.database.url.expose_secret())
}

impl Stack {
    /// auth-service alone (user-service "down"), its relay running.
    pub async fn auth_only() -> Self {
        Self::auth_only_with(SagaSettings::default()).await
    }

    /// auth-service alone, waiting for user-service's answers as `saga` says.
    pub async fn auth_only_with(saga: SagaSettings) -> Self {
        let mut env = TestEnv::new().await;
        let mut settings = Settings::for_tests(env.service_settings("auth").await);
        settings.saga = saga;
        env.relay("auth", &settings.service);
        let app = auth_service::startup::Application::build(settings.clone())
            .await
            .expect("auth-service builds");
        let auth = serve(
            app.port(),
            app.run_until_stopped(std::future::pending()),
            &settings.service,
        );
        Self {
            env,
            auth,
            auth_settings: settings,
            user: None,
        }
    }

    /// auth-service and user-service, both relayed.
    pub async fn new() -> Self {
        let mut stack = Self::auth_only().await;
        stack.start_user_service().await;
        stack
    }

    /// Starts user-service (fresh database) and its relay.
    pub async fn start_user_service(&mut self) {
        let settings = self.env.service_settings("user").await;
        self.env.relay("user", &settings);
        let app = user_service::startup::Application::build(
            user_service::settings::Settings::with_dev_auth(settings.clone()),
        )
        .await
        .expect("user-service builds");
        self.user = Some(serve(
            app.port(),
            app.run_until_stopped(std::future::pending()),
            &settings,
        ));
    }

    /// `POST path` on auth-service with a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.auth
            .client
            .post(format!("{}{path}", self.auth.address))
            .json(body)
            .send()
            .await
            .expect("request to auth-service")
    }

    /// Registers `email`; asserts the 202 and returns the account id and poll token.
    pub async fn register(&self, email: &str) -> (Uuid, String) {
        let res = self
            .post(
                "/api/v1/auth/register",
                &json!({"email": email, "password": PASSWORD, "full_name": "Ann Lee", "phone": "+34 600 123 456"}),
            )
            .await;
        assert_eq!(res.status(), 202, "registration of {email}");
        let location = res.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned();
        let body: Value = res.json().await.expect("202 body");
        let id: Uuid = body["id"].as_str().expect("id").parse().expect("uuid");
        assert_eq!(location, format!("/api/v1/auth/accounts/{id}"));
        (
            id,
            body["poll_token"].as_str().expect("poll token").to_owned(),
        )
    }

    /// `POST /login`.
    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post(
            "/api/v1/auth/login",
            &json!({"email": email, "password": password}),
        )
        .await
    }

    /// The status of account `id`, read from auth-service's database.
    pub async fn status(&self, id: Uuid) -> String {
        self.auth_db()
            .await
            .query_one("SELECT status FROM accounts WHERE id = $1", &[&id])
            .await
            .expect("the account exists")
            .get(0)
    }

    /// Waits until account `id` has left PENDING; returns its status.
    pub async fn settled(&self, id: Uuid) -> String {
        comanda_testkit::eventually(FLOW, "the account leaves PENDING", || async {
            self.status(id).await != "PENDING"
        })
        .await;
        self.status(id).await
    }

    /// A client on auth-service's database.
    pub async fn auth_db(&self) -> tokio_postgres::Client {
        connect(self.auth.database_url.as_deref().expect("auth database")).await
    }

    /// A client on user-service's database.
    pub async fn user_db(&self) -> tokio_postgres::Client {
        let user = self.user.as_ref().expect("user-service was started");
        connect(user.database_url.as_deref().expect("user database")).await
    }
}

async fn connect(url: &str) -> tokio_postgres::Client {
    let config = tokio_postgres::Config::from_str(url).expect("database URL");
    let (client, connection) = config
        .connect(tokio_postgres::NoTls)
        .await
        .expect("connect to a test database");
    tokio::spawn(connection);
    client
}

/// The status and `code` of a problem response, asserting its media type.
pub async fn problem(res: Response) -> (u16, String) {
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json", "status {status}");
    let body: Value = res.json().await.expect("problem body");
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}
