//! One span per request, a closing log line, and HTTP metrics.
//!
//! The span carries `correlation_id` and `request_id`, so every log line of the request
//! has them; the line written when the response is ready also has method, route, status
//! and latency. Metrics are labelled by the route *pattern* (`/orders/{id}`), never the
//! raw path, to keep their cardinality bounded.
//!
//! The operational endpoints ([`PROBE_ROUTES`]) are not traffic: the gateway checks every
//! instance's `/health` each second, Compose probes `/ready` and Prometheus scrapes
//! `/metrics` every few seconds. Their closing line is at DEBUG (whatever the status, so a
//! `/ready` 503 while a stack starts is no error) and they are not counted in the HTTP
//! metrics; otherwise they would dominate the request rate, the error panels and the log
//! volume.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use tracing::Instrument;

use crate::correlation::CorrelationId;
use crate::request_id::RequestId;

/// Counter of finished requests, labelled `method`, `route`, `status`.
pub const REQUESTS_TOTAL: &str = "http_requests_total";
/// Histogram of request latency in seconds, labelled `method`, `route`, `status`.
pub const REQUEST_DURATION: &str = "http_request_duration_seconds";
/// Route label of requests that matched no route.
const UNMATCHED: &str = "unmatched";
/// Routes of the kit's operational endpoints ([`crate::health`]): logged at DEBUG, not
/// counted.
pub const PROBE_ROUTES: &[&str] = &["/health", "/ready", "/metrics"];

/// A route's name for logs and metrics, set by a handler that serves many paths
/// through one catch-all (the gateway's forwarding) and so has no pattern of its own
/// worth a label. Put it in the request's extensions; it wins over the pattern.
#[derive(Debug, Clone, Copy)]
pub struct RouteName(pub &'static str);

/// Middleware: runs the request inside its span, then logs and measures it.
///
/// Must be wrapped inside [`crate::correlation::middleware`] and
/// [`crate::request_id::middleware`] so the ids are known. The route is known once
/// the request was routed: asked before, actix would match the path against every
/// pattern a second time. Route and status go on the closing line, not the span:
/// recording a field on a span after its creation makes the JSON formatter parse and
/// rewrite the span's fields, twice per request.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let span = {
        let extensions = req.extensions();
        let correlation_id = extensions.get::<CorrelationId>().copied();
        let request_id = extensions.get::<RequestId>().map(|id| id.0.clone());
        tracing::info_span!(
            "http_request",
            method = %method,
            path = %req.path(),
            correlation_id = correlation_id.map(tracing::field::display),
            request_id = request_id.as_ref().and_then(|v| v.to_str().ok()),
        )
    };
    let res = next.call(req).instrument(span.clone()).await?;
    let named = res.request().extensions().get::<RouteName>().copied();
    let route = match named {
        Some(RouteName(name)) => name.to_owned(),
        None => res
            .request()
            .match_pattern()
            .unwrap_or_else(|| UNMATCHED.to_owned()),
    };

    let status = res.status();
    let latency = started.elapsed();
    let probe = named.is_none() && PROBE_ROUTES.contains(&route.as_str());
    span.in_scope(|| {
        let latency_ms = latency.as_secs_f64() * 1000.0;
        let code = status.as_u16();
        if probe {
            tracing::debug!(route, status = code, latency_ms, "request finished");
        } else if status.is_server_error() {
            tracing::error!(route, status = code, latency_ms, "request finished");
        } else {
            tracing::info!(route, status = code, latency_ms, "request finished");
        }
    });
    if probe {
        return Ok(res);
    }
    let labels = [
        ("method", method.to_string()),
        ("route", route),
        ("status", status.as_u16().to_string()),
    ];
    metrics::counter!(REQUESTS_TOTAL, &labels).increment(1);
    metrics::histogram!(REQUEST_DURATION, &labels).record(latency.as_secs_f64());
    Ok(res)
}
