//! The gateway's own answers when it does not forward a request, as problems.
//!
//! Services answer with their own problems, passed through unchanged; these are the
//! cases where the gateway answers itself, each with a stable `code`.

use std::time::Duration;

use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use comanda_kit::problem::Problem;

use crate::routing::Service;

/// Why the gateway answered a request itself.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// A problem without extra headers (401, 404, 413, 502, 503, 504, …).
    #[error(transparent)]
    Problem(#[from] Problem),
    /// 429 `rate_limited`; `Retry-After` tells the client when to try again.
    #[error("rate limited for {retry_after:?}")]
    RateLimited {
        /// How long until the next request would be allowed.
        retry_after: Duration,
    },
}

impl GatewayError {
    /// 503 `upstream_unavailable`: no healthy instance of `service` took the request.
    pub fn unavailable(service: Service) -> Self {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "upstream_unavailable",
            format!("no instance of the {service} service is available"),
        )
        .into()
    }

    /// 504 `upstream_timeout`: the instance did not answer in time.
    pub fn timeout(service: Service) -> Self {
        Problem::new(
            StatusCode::GATEWAY_TIMEOUT,
            "upstream_timeout",
            format!("the {service} service did not answer in time"),
        )
        .into()
    }

    /// 502 `bad_gateway`: the instance broke off the exchange.
    pub fn bad_gateway(service: Service, error: &dyn std::fmt::Display) -> Self {
        tracing::warn!(%service, error = %error, "upstream exchange failed");
        Problem::new(
            StatusCode::BAD_GATEWAY,
            "bad_gateway",
            format!("the {service} service gave no valid answer"),
        )
        .into()
    }

    /// 413 `payload_too_large`: the body exceeds `limit` bytes.
    pub fn too_large(limit: u64) -> Self {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body exceeds the limit of {limit} bytes"),
        )
        .into()
    }
}

impl ResponseError for GatewayError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Problem(problem) => problem.status,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Problem(problem) => problem.error_response(),
            Self::RateLimited { retry_after } => {
                // Whole seconds, rounded up: retrying at the advertised time must succeed.
                let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                let mut res = Problem::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    format!("too many attempts; retry in {seconds} s"),
                )
                .error_response();
                res.headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(seconds.max(1)));
                res
            }
        }
    }
}
