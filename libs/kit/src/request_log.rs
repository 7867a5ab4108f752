//! One span per request, a closing log line, and HTTP metrics.
//!
//! The span carries `correlation_id`, so every log line of the request has it; the line
//! written when the response is ready has method, route, status and latency. Metrics are
//! labelled by the route *pattern* (`/orders/{id}`), never the raw path, to keep their
//! cardinality bounded.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use tracing::Instrument;

use crate::correlation::CorrelationId;

/// Counter of finished requests, labelled `method`, `route`, `status`.
pub const REQUESTS_TOTAL: &str = "http_requests_total";
/// Histogram of request latency in seconds, labelled `method`, `route`, `status`.
pub const REQUEST_DURATION: &str = "http_request_duration_seconds";
/// Route label of requests that matched no route.
const UNMATCHED: &str = "unmatched";

/// Middleware: runs the request inside its span, then logs and measures it.
///
/// Must be wrapped inside [`crate::correlation::middleware`] so the id is known.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().to_string();
    let route = req.match_pattern().unwrap_or_else(|| UNMATCHED.to_owned());
    let correlation_id = req
        .extensions()
        .get::<CorrelationId>()
        .map(ToString::to_string)
        .unwrap_or_default();
    let span = tracing::info_span!(
        "http_request",
        %method,
        %route,
        path = %req.path(),
        %correlation_id,
        status = tracing::field::Empty,
    );
    let res = next.call(req).instrument(span.clone()).await?;

    let status = res.status();
    let latency = started.elapsed();
    span.record("status", status.as_u16());
    let labels = [
        ("method", method),
        ("route", route),
        ("status", status.as_u16().to_string()),
    ];
    metrics::counter!(REQUESTS_TOTAL, &labels).increment(1);
    metrics::histogram!(REQUEST_DURATION, &labels).record(latency.as_secs_f64());
    span.in_scope(|| {
        let latency_ms = latency.as_secs_f64() * 1000.0;
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), latency_ms, "request finished");
        } else {
            tracing::info!(status = status.as_u16(), latency_ms, "request finished");
        }
    });
    Ok(res)
}
