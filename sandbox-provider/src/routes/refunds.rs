//! `POST /v1/refunds`: refund a captured session, idempotent on the key.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::idempotency_key;
use crate::error::ApiError;
use crate::processor::{Created, NewRefund, Processor};

/// Body of `POST /v1/refunds`.
#[derive(Debug, Deserialize)]
pub struct CreateRefund {
    session_id: String,
    amount_cents: i64,
}

/// 201 new, 200 replay; 409 `not_captured` when nothing was charged.
#[tracing::instrument(skip_all)]
pub async fn create(
    req: HttpRequest,
    body: web::Json<CreateRefund>,
    processor: web::Data<Processor>,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(&req)?;
    let body = body.into_inner();
    let request = NewRefund {
        session_id: body.session_id,
        amount_cents: body.amount_cents,
    };
    let (refund, created) = processor.refund(key, request)?;
    Ok(match created {
        Created::New => HttpResponse::Created().json(refund),
        Created::Replayed => HttpResponse::Ok().json(refund),
    })
}
