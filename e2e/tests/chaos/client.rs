//! The customers' HTTP client: a good client of the gateway (and of the provider's
//! checkout, which customers reach directly, as a browser would). It retries what may not
//! have happened — no answer at all, a 5xx, a 429 or 503 (after its `Retry-After`) —
//! sending the very same request again, so an `Idempotency-Key` makes the retry safe.
//! Every other answer is returned as is.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::RETRY_AFTER;
use reqwest::Method;
use serde_json::Value;

/// How long one attempt may take; the gateway's own upstream timeout is 10 s.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);
/// First and largest pause between attempts (doubling in between).
const BACKOFF: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(2));
/// The longest `Retry-After` honoured; a longer one is waited in several rounds.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);

/// What the clients saw, for the report.
#[derive(Debug, Default)]
pub struct Stats {
    /// Attempts sent.
    pub attempts: AtomicU64,
    /// Attempts without an answer (connection refused or reset, timeout).
    pub no_answer: AtomicU64,
    /// Answers 429 or 503 (waited out as their `Retry-After` says).
    pub throttled: AtomicU64,
    /// Other 5xx answers.
    pub server_errors: AtomicU64,
}

impl Stats {
    fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// A counter's value.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// An answer the client did not retry.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The JSON body, or null.
    pub body: Value,
}

/// One request: everything needed to send it again unchanged.
pub struct Request<'a> {
    method: Method,
    path: &'a str,
    bearer: Option<&'a str>,
    headers: Vec<(&'a str, &'a str)>,
    body: Option<&'a Value>,
}

impl<'a> Request<'a> {
    /// `GET path`.
    pub fn get(path: &'a str) -> Self {
        Self::new(Method::GET, path, None)
    }

    /// `POST path` with a JSON body.
    pub fn post(path: &'a str, body: &'a Value) -> Self {
        Self::new(Method::POST, path, Some(body))
    }

    fn new(method: Method, path: &'a str, body: Option<&'a Value>) -> Self {
        Self {
            method,
            path,
            bearer: None,
            headers: Vec::new(),
            body,
        }
    }

    /// With `Authorization: Bearer <token>`.
    pub fn bearer(mut self, token: &'a str) -> Self {
        self.bearer = Some(token);
        self
    }

    /// With header `name: value`.
    pub fn header(mut self, name: &'a str, value: &'a str) -> Self {
        self.headers.push((name, value));
        self
    }
}

/// A service as the customers reach it: the gateway, or the payment provider.
pub struct Client {
    http: reqwest::Client,
    base: String,
    /// What every request of the run saw.
    pub stats: Stats,
}

impl Client {
    /// A client of the service at `base`, e.g. the gateway's base URL.
    pub fn new(base: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .build()
            .expect("an HTTP client");
        Self {
            http,
            base: base.to_owned(),
            stats: Stats::default(),
        }
    }

    /// The base URL requests are sent to.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends `request` until it gets an answer worth returning, or `patience` has
    /// passed: then the error names the last thing that went wrong.
    pub async fn send(&self, request: &Request<'_>, patience: Duration) -> Result<Answer, String> {
        let deadline = Instant::now() + patience;
        let mut backoff = BACKOFF.0;
        loop {
            Stats::count(&self.stats.attempts);
            let (wait, problem) = match self.attempt(request).await {
                Ok((status, _, body)) if status < 500 && status != 429 => {
                    return Ok(Answer { status, body });
                }
                Ok((status, retry_after, body)) if status == 429 || status == 503 => {
                    Stats::count(&self.stats.throttled);
                    let wait = retry_after.map_or(backoff, |after| after.min(MAX_RETRY_AFTER));
                    (wait, format!("{status} {body}"))
                }
                Ok((status, _, body)) => {
                    Stats::count(&self.stats.server_errors);
                    (backoff, format!("{status} {body}"))
                }
                Err(error) => {
                    Stats::count(&self.stats.no_answer);
                    (backoff, format!("no answer: {error}"))
                }
            };
            if Instant::now() + wait > deadline {
                return Err(format!(
                    "{} {}: gave up after {patience:?}; last: {problem}",
                    request.method, request.path
                ));
            }
            tokio::time::sleep(wait).await;
            backoff = (backoff * 2).min(BACKOFF.1);
        }
    }

    /// One attempt: status, `Retry-After`, body.
    async fn attempt(
        &self,
        request: &Request<'_>,
    ) -> Result<(u16, Option<Duration>, Value), reqwest::Error> {
        let url = format!("{}{}", self.base, request.path);
        let mut builder = self.http.request(request.method.clone(), url);
        if let Some(bearer) = request.bearer {
            builder = builder.bearer_auth(bearer);
        }
        for (name, value) in &request.headers {
            builder = builder.header(*name, *value);
        }
        if let Some(body) = request.body {
            builder = builder.json(body);
        }
        let response = builder.send().await?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok()?.trim().parse().ok())
            .map(Duration::from_secs);
        // A body cut off mid-way is no answer: the request is sent again.
        let bytes = response.bytes().await?;
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok((status, retry_after, body))
    }
}
