//! Spawning user-service for a test and seeding its database.

use std::str::FromStr;

use comanda_kit::testing::TestApp;
use comanda_testkit::TestEnv;
use secrecy::ExposeSecret;
use user_service::settings::Settings;
use user_service::startup::Application;
use uuid::Uuid;

pub use comanda_testkit::tokens::{forged as bad_tokens, valid as token};

/// user-service running for one test, on that test's topics.
pub struct App {
    /// The running service.
    pub app: TestApp,
    /// The test's broker slice (keeps the topics' prefix alive).
    pub env: TestEnv,
}

/// Starts user-service on port 0 with a fresh database and its own topic prefix.
pub async fn spawn_app() -> App {
    let env = TestEnv::new().await;
    let settings = env.service_settings("user").await;
    let url = settings.database.url.expose_secret().to_owned();
    let app = Application::build(Settings::with_dev_auth(settings))
        .await
        .expect("user-service builds");
    let port = app.port();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let app = TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        client: reqwest::Client::new(),
        database_url: None,
    }
    .with_database(url);
    App { app, env }
}

impl App {
    /// A client connected to the service's database.
    pub async fn db(&self) -> tokio_postgres::Client {
        let url = self.app.database_url.as_deref().expect("database url");
        let config = tokio_postgres::Config::from_str(url).expect("database URL");
        let (client, connection) = config
            .connect(tokio_postgres::NoTls)
            .await
            .expect("connect to the test database");
        tokio::spawn(connection);
        client
    }

    /// Inserts a profile directly, as if an earlier registration had created it.
    pub async fn seed_profile(&self, email: &str, full_name: &str) -> Uuid {
        let id = Uuid::now_v7();
        self.db()
            .await
            .execute(
                "INSERT INTO profiles (id, email, full_name) VALUES ($1, $2, $3)",
                &[&id, &email, &full_name],
            )
            .await
            .expect("seed profile");
        id
    }

    /// The value of `sql`, a query returning one bigint.
    pub async fn count(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> i64 {
        self.db()
            .await
            .query_one(sql, params)
            .await
            .expect("count query")
            .get(0)
    }

    /// `method path` with `token` as bearer.
    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
    ) -> reqwest::RequestBuilder {
        self.app
            .client
            .request(method, format!("{}{path}", self.app.address))
            .bearer_auth(token)
    }
}
