//! A client of the gateway, as the tests' customers and admins use it.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A client of the gateway.
pub struct Client {
    /// The HTTP client.
    pub http: reqwest::Client,
    /// The gateway's base URL.
    pub base: String,
    /// The access token sent, if any.
    pub bearer: Option<String>,
}

impl Client {
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        // A request that never reached the gateway (a kept-alive connection it had just
        // closed) is sent again when that cannot apply it twice: a read, or a write
        // carrying an Idempotency-Key.
        let replayable = method == reqwest::Method::GET
            || headers
                .iter()
                .any(|(name, _)| name.eq_ignore_ascii_case("idempotency-key"));
        let mut attempts = 0;
        let response = loop {
            let mut request = self
                .http
                .request(method.clone(), format!("{}{path}", self.base));
            if let Some(bearer) = &self.bearer {
                request = request.bearer_auth(bearer);
            }
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            if let Some(body) = &body {
                request = request.json(body);
            }
            attempts += 1;
            match request.send().await {
                Ok(response) => break response,
                Err(error)
                    if replayable && attempts < 5 && (error.is_connect() || error.is_request()) =>
                {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(error) => panic!("the gateway answers {method} {path}: {error}"),
            }
        };
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(body), &[])
            .await
    }

    /// Polls `path` until its JSON satisfies `done`; returns that JSON.
    pub async fn settle(&self, path: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        self.settle_with(path, &[], what, done).await
    }

    /// [`Client::settle`] with extra request headers.
    pub async fn settle_with(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        what: &str,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        self.settle_every(path, headers, Duration::from_millis(100), what, done)
            .await
    }

    /// [`Client::settle_with`] polling every `interval` (many clients at once poll
    /// gently, as real ones do), for up to two minutes.
    pub async fn settle_every(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        interval: Duration,
        what: &str,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let patience = if interval > Duration::from_millis(100) {
            120
        } else {
            60
        };
        let deadline = Instant::now() + Duration::from_secs(patience);
        loop {
            let (status, body) = self.send(reqwest::Method::GET, path, None, headers).await;
            if status == 200 && done(&body) {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting until {what}: {status} {body}"
            );
            tokio::time::sleep(interval).await;
        }
    }
}

pub fn id(value: &Value) -> String {
    value["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {value}"))
        .to_owned()
}

impl Client {
    /// A client with no token yet, for the gateway at `base`.
    pub fn new(base: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base.to_owned(),
            bearer: None,
        }
    }

    /// A customer registered through the gateway, ACTIVE and logged in; with its
    /// account id.
    pub async fn customer(base: &str, email: &str) -> (Self, String) {
        let mut client = Self::new(base);
        let password = "a long enough secret";
        let (status, account) = client
            .post(
                "/api/v1/auth/register",
                json!({"email": email, "password": password, "full_name": "Test Customer"}),
            )
            .await;
        assert_eq!(status, 202, "{account}");
        let account_id = id(&account);
        let poll = account["poll_token"]
            .as_str()
            .expect("poll token")
            .to_owned();
        let path = format!("/api/v1/auth/accounts/{account_id}");
        client
            .settle_with(
                &path,
                &[("x-poll-token", &poll)],
                "the account is ACTIVE",
                |a| a["status"] == "ACTIVE",
            )
            .await;
        client.login(email, password).await;
        (client, account_id)
    }

    /// Logs in and keeps the access token.
    pub async fn login(&mut self, email: &str, password: &str) {
        let (status, tokens) = self
            .post(
                "/api/v1/auth/login",
                json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(status, 200, "{tokens}");
        let token = tokens["access_token"].as_str().expect("access token");
        self.bearer = Some(token.to_owned());
    }
}
