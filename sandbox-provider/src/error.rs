//! The API's errors and their problem codes.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use comanda_kit::problem::Problem;

use crate::domain::Status;

/// Everything an API call can be refused for; each maps to one stable `code`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `missing_idempotency_key`.
    #[error("the Idempotency-Key header is required (1 to 255 visible ASCII characters)")]
    MissingIdempotencyKey,
    /// 400 `invalid_request`: a field is out of range.
    #[error("{0}")]
    InvalidRequest(String),
    /// 409 `idempotency_key_reused`: the key was used with another body.
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyKeyReused,
    /// 404 `no_such_session`.
    #[error("no checkout session {0}")]
    NoSuchSession(String),
    /// 409 `session_paid`: void of a paid session.
    #[error("the session was paid; refund it instead")]
    SessionPaid,
    /// 409 `not_captured`: refund of a session with no captured charge.
    #[error("the session has no captured charge to refund")]
    NotCaptured,
    /// 409 `already_refunded`: a second refund under another key.
    #[error("the session was refunded already")]
    AlreadyRefunded,
    /// 400 `invalid_amount`.
    #[error("the refund amount must be between 1 and the session's amount")]
    InvalidAmount,
    /// 410 `session_expired`.
    #[error("the session expired")]
    SessionExpired,
    /// 409 `session_not_open`.
    #[error("the session is {0:?}: it takes no card")]
    SessionNotOpen(Status),
    /// 400 `invalid_card`: not a card number.
    #[error("not a card number")]
    InvalidCard,
    /// 400 `unknown_card`: a card number, but not one of the test cards.
    #[error(
        "not a test card: use 4242 4242 4242 4242 (succeeds), 4000 0000 0000 0002 \
         (declined), 4000 0000 0000 9995 (insufficient funds) or 4000 0000 0000 3220 \
         (succeeds after a delay)"
    )]
    UnknownCard,
}

impl ApiError {
    fn problem(&self) -> Problem {
        let (status, code) = match self {
            Self::MissingIdempotencyKey => (StatusCode::BAD_REQUEST, "missing_idempotency_key"),
            Self::InvalidRequest(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
            Self::IdempotencyKeyReused => (StatusCode::CONFLICT, "idempotency_key_reused"),
            Self::NoSuchSession(_) => (StatusCode::NOT_FOUND, "no_such_session"),
            Self::SessionPaid => (StatusCode::CONFLICT, "session_paid"),
            Self::NotCaptured => (StatusCode::CONFLICT, "not_captured"),
            Self::AlreadyRefunded => (StatusCode::CONFLICT, "already_refunded"),
            Self::InvalidAmount => (StatusCode::BAD_REQUEST, "invalid_amount"),
            Self::SessionExpired => (StatusCode::GONE, "session_expired"),
            Self::SessionNotOpen(_) => (StatusCode::CONFLICT, "session_not_open"),
            Self::InvalidCard => (StatusCode::BAD_REQUEST, "invalid_card"),
            Self::UnknownCard => (StatusCode::BAD_REQUEST, "unknown_card"),
        };
        Problem::new(status, code, self.to_string())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.problem().status
    }

    fn error_response(&self) -> HttpResponse {
        self.problem().error_response()
    }
}
