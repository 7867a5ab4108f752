//! `/v1/checkout/sessions`: create (idempotent on the key), read, void.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{idempotency_key, PublicUrl, SessionView};
use crate::domain::NewSession;
use crate::error::ApiError;
use crate::processor::{Created, Processor};

/// Body of `POST /v1/checkout/sessions`.
#[derive(Debug, Deserialize)]
pub struct CreateSession {
    amount_cents: i64,
    currency: String,
    reference: String,
    expires_at: DateTime<Utc>,
}

impl CreateSession {
    /// Checks the ranges; an `expires_at` in the past is allowed (the session is born
    /// expired), so a merchant retrying a create late gets an answer, not an error.
    fn parse(self) -> Result<NewSession, ApiError> {
        if self.amount_cents <= 0 {
            return Err(ApiError::InvalidRequest(
                "amount_cents must be a positive number of cents".to_owned(),
            ));
        }
        if self.currency.len() != 3 || !self.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(ApiError::InvalidRequest(
                "currency must be an ISO 4217 code such as EUR".to_owned(),
            ));
        }
        let reference_ok = (1..=255).contains(&self.reference.chars().count())
            && !self.reference.chars().any(char::is_control);
        if !reference_ok {
            return Err(ApiError::InvalidRequest(
                "reference must be 1 to 255 characters without control characters".to_owned(),
            ));
        }
        Ok(NewSession {
            amount_cents: self.amount_cents,
            currency: self.currency,
            reference: self.reference,
            expires_at: self.expires_at,
        })
    }
}

/// `POST /v1/checkout/sessions`: 201 new, 200 replay, 409 key reused with another body.
#[tracing::instrument(skip_all)]
pub async fn create(
    req: HttpRequest,
    body: web::Json<CreateSession>,
    processor: web::Data<Processor>,
    public_url: web::Data<PublicUrl>,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(&req)?;
    let request = body.into_inner().parse()?;
    let (session, created) = processor.create_session(key, request)?;
    let view = SessionView::new(session, &public_url);
    Ok(match created {
        Created::New => HttpResponse::Created().json(view),
        Created::Replayed => HttpResponse::Ok().json(view),
    })
}

/// Query of `GET /v1/checkout/sessions`.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    reference: Option<String>,
}

/// `GET /v1/checkout/sessions[?reference=]`: every session (of one reference), oldest
/// first, as `{items: [...]}` — what a merchant's reconciliation (and the chaos suite's
/// "no order charged twice" check) reads.
#[tracing::instrument(skip_all)]
pub async fn list(
    query: web::Query<ListQuery>,
    processor: web::Data<Processor>,
    public_url: web::Data<PublicUrl>,
) -> HttpResponse {
    let items: Vec<SessionView> = processor
        .sessions(query.reference.as_deref())
        .into_iter()
        .map(|session| SessionView::new(session, &public_url))
        .collect();
    HttpResponse::Ok().json(serde_json::json!({ "items": items }))
}

/// `GET /v1/checkout/sessions/{id}`.
#[tracing::instrument(skip_all, fields(session_id = %id))]
pub async fn get(
    id: web::Path<String>,
    processor: web::Data<Processor>,
    public_url: web::Data<PublicUrl>,
) -> Result<HttpResponse, ApiError> {
    let session = processor.session(&id)?;
    Ok(HttpResponse::Ok().json(SessionView::new(session, &public_url)))
}

/// `POST /v1/checkout/sessions/{id}/void`: idempotent; 409 `session_paid` once charged.
#[tracing::instrument(skip_all, fields(session_id = %id))]
pub async fn void(
    id: web::Path<String>,
    processor: web::Data<Processor>,
    public_url: web::Data<PublicUrl>,
) -> Result<HttpResponse, ApiError> {
    let session = processor.void(&id)?;
    Ok(HttpResponse::Ok().json(SessionView::new(session, &public_url)))
}
