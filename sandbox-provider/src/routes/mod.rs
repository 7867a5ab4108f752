//! The HTTP API: thin handlers over [`crate::processor::Processor`].

pub mod checkout;
pub mod refunds;
pub mod sessions;

use std::sync::{Arc, OnceLock};

use actix_web::{web, HttpRequest};
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::{FailureReason, Session, Status};
use crate::error::ApiError;

/// Base URL of the checkout pages (`<public_url>/checkout/<id>`), set once the
/// server is bound (the bound port may be part of it).
#[derive(Debug, Clone, Default)]
pub struct PublicUrl(Arc<OnceLock<String>>);

impl PublicUrl {
    /// Sets the URL; later calls are ignored.
    pub fn set(&self, url: String) {
        let _ = self.0.set(url);
    }

    /// The URL, empty before [`PublicUrl::set`].
    pub fn get(&self) -> &str {
        self.0.get().map_or("", String::as_str)
    }
}

/// Registers every route of the API and the checkout page.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/checkout/sessions", web::post().to(sessions::create))
        .route("/v1/checkout/sessions", web::get().to(sessions::list))
        .route("/v1/checkout/sessions/{id}", web::get().to(sessions::get))
        .route(
            "/v1/checkout/sessions/{id}/void",
            web::post().to(sessions::void),
        )
        .route("/v1/refunds", web::post().to(refunds::create))
        .route("/checkout/{id}", web::get().to(checkout::page))
        .route("/checkout/{id}/pay", web::post().to(checkout::pay));
}

/// A session as the API shows it.
#[derive(Debug, Serialize)]
pub struct SessionView {
    id: String,
    status: Status,
    amount_cents: i64,
    currency: String,
    reference: String,
    checkout_url: String,
    expires_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    /// Only on a failed session.
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_reason: Option<FailureReason>,
    /// Money was taken: `paid`, `refunded`, or `voided` with a charge that completed
    /// after the void. What an auditor counts to find double charges.
    captured: bool,
}

impl SessionView {
    /// `session` with its checkout URL under `public_url`.
    pub fn new(session: Session, public_url: &PublicUrl) -> Self {
        Self {
            captured: session.captured(),
            checkout_url: format!("{}/checkout/{}", public_url.get(), session.id),
            id: session.id,
            status: session.status,
            amount_cents: session.request.amount_cents,
            currency: session.request.currency,
            reference: session.request.reference,
            expires_at: session.request.expires_at,
            created_at: session.created_at,
            failure_reason: session.failure_reason,
        }
    }
}

/// The `Idempotency-Key` header: 1 to 255 visible ASCII characters.
pub fn idempotency_key(req: &HttpRequest) -> Result<String, ApiError> {
    req.headers()
        .get("Idempotency-Key")
        .and_then(|value| value.to_str().ok())
        .filter(|key| (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .ok_or(ApiError::MissingIdempotencyKey)
}
