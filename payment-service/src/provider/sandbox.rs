//! The HTTP adapter of the sandbox provider (`sandbox-provider`).
//!
//! The sandbox behaves like a card processor's test mode, so this adapter is what an
//! adapter of a real processor would be: JSON over HTTP, an `Idempotency-Key` header
//! on every call that creates something, problem+json refusals with a stable `code`.
//! A real processor would be a second [`PaymentProvider`] next to this one (with TLS
//! and its API key; the sandbox needs neither).

use std::time::Duration;

use async_trait::async_trait;
use reqwest::{RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{NewSession, PaymentProvider, ProviderError, Refund, Session};

/// Header naming the idempotency key of a call.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// The sandbox's API at `base_url`.
#[derive(Debug, Clone)]
pub struct SandboxProvider {
    base_url: String,
    client: reqwest::Client,
}

impl SandboxProvider {
    /// An adapter for the sandbox at `base_url` (e.g. `http://127.0.0.1:5030`) whose
    /// calls give up after `timeout` (and are retried by their deadline).
    pub fn new(base_url: &str, timeout: Duration) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()?;
        Ok(Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            client,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

/// The body of a refund request.
#[derive(Serialize)]
struct NewRefund<'a> {
    session_id: &'a str,
    amount_cents: i64,
}

/// The fields of a problem+json refusal this adapter reads.
#[derive(Deserialize)]
struct Problem {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    detail: Option<String>,
}

/// Sends `request` and reads a `T` from a 2xx answer; anything else is an error that
/// says whether retrying may help.
async fn call<T: DeserializeOwned>(request: RequestBuilder) -> Result<T, ProviderError> {
    let response = request
        .send()
        .await
        .map_err(|e| ProviderError::Unavailable(format!("{e:#}")))?;
    let status = response.status();
    if status.is_success() {
        return response
            .json::<T>()
            .await
            .map_err(|e| ProviderError::Unavailable(format!("unreadable answer: {e:#}")));
    }
    let retryable = status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS;
    let body = response.text().await.unwrap_or_default();
    if retryable || !status.is_client_error() {
        return Err(ProviderError::Unavailable(format!("{status}: {body}")));
    }
    let problem = serde_json::from_str::<Problem>(&body).ok();
    Err(ProviderError::Refused {
        status: status.as_u16(),
        code: problem
            .as_ref()
            .and_then(|p| p.code.clone())
            .unwrap_or_else(|| "unknown".to_owned()),
        detail: problem.and_then(|p| p.detail).unwrap_or(body),
    })
}

#[async_trait]
impl PaymentProvider for SandboxProvider {
    async fn create_session(
        &self,
        key: &str,
        session: &NewSession,
    ) -> Result<Session, ProviderError> {
        let request = self
            .client
            .post(self.url("/v1/checkout/sessions"))
            .header(IDEMPOTENCY_KEY, key)
            .json(session);
        call(request).await
    }

    async fn void_session(&self, session_id: &str) -> Result<Session, ProviderError> {
        let request = self
            .client
            .post(self.url(&format!("/v1/checkout/sessions/{session_id}/void")));
        call(request).await
    }

    async fn refund(
        &self,
        key: &str,
        session_id: &str,
        amount_cents: i64,
    ) -> Result<Refund, ProviderError> {
        let request = self
            .client
            .post(self.url("/v1/refunds"))
            .header(IDEMPOTENCY_KEY, key)
            .json(&NewRefund {
                session_id,
                amount_cents,
            });
        call(request).await
    }
}
