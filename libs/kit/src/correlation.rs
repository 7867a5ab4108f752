//! Correlation ids: one UUID follows a request through every service and event.
//!
//! The middleware takes `X-Correlation-Id` from the request when it is a UUID, otherwise
//! mints a UUIDv7 (time-ordered, so ids sort by creation); handlers read it with the
//! [`CorrelationId`] extractor and copy it into the events they write, and the response
//! echoes it so clients can quote it.

use std::future::{ready, Ready};

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use uuid::Uuid;

/// The header carrying the correlation id, in both directions.
pub const HEADER: &str = "x-correlation-id";

/// The correlation id of the current request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorrelationId(pub Uuid);

impl CorrelationId {
    /// The id in `value` if it is a UUID, else a fresh UUIDv7.
    pub fn from_header(value: Option<&HeaderValue>) -> Self {
        let parsed = value
            .and_then(|v| v.to_str().ok())
            .and_then(|s| Uuid::parse_str(s.trim()).ok());
        Self(parsed.unwrap_or_else(Uuid::now_v7))
    }
}

impl std::fmt::Display for CorrelationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl FromRequest for CorrelationId {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Without the middleware (a bare test App) fall back to the header or a new id.
        let id = req
            .extensions()
            .get::<CorrelationId>()
            .copied()
            .unwrap_or_else(|| Self::from_header(req.headers().get(HEADER)));
        ready(Ok(id))
    }
}

/// Middleware: resolves the id, stores it in the request extensions, echoes it back.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = CorrelationId::from_header(req.headers().get(HEADER));
    req.extensions_mut().insert(id);
    let mut res = next.call(req).await?;
    if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
        res.headers_mut()
            .insert(HeaderName::from_static(HEADER), value);
    }
    Ok(res)
}
