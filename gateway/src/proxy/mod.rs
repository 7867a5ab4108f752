//! Forwarding a request to an instance of its service, and its answer back.
//!
//! Each actix worker thread has its own [`Proxy`] and with it its own connection pool
//! (actix's `awc` client): a forwarded request is read, sent upstream, answered and
//! streamed back on the thread that accepted it, with no hand-over between threads.
//! (The first version used one shared `reqwest` client: every request crossed threads
//! twice — the body through a channel, the exchange through the pool's connection
//! task — which cost more than the forwarding itself; `cargo xtask bench gateway`.)
//!
//! # Layout
//! - [`headers`]: what crosses the edge in each direction.
//! - [`body`]: the streamed, size-limited, replayable request body.
//! - [`response`]: the upstream's answer as the client's response.

pub mod body;
pub mod headers;
pub mod response;

use std::time::Duration;

use actix_web::http::{Method, Uri};
use actix_web::web::Payload;
use actix_web::{HttpRequest, HttpResponse};
use awc::error::SendRequestError;

use crate::error::GatewayError;
use crate::settings::ProxySettings;
use crate::upstreams::Upstream;
use body::RequestBody;

/// How long an idle upstream connection is kept for reuse: shorter than the services'
/// own keep-alive (actix's default, 5 s), so the gateway drops a connection before the
/// service can close it under a request being sent (which would be a 502).
const IDLE_CONNECTION_KEPT: Duration = Duration::from_secs(3);

/// One worker thread's HTTP client, and the limits every forwarded request shares.
pub struct Proxy {
    client: awc::Client,
    timeout: Duration,
    max_body_bytes: u64,
}

impl Proxy {
    /// A proxy for the calling worker thread, as `settings` say.
    pub fn new(settings: &ProxySettings) -> Self {
        let timeout = Duration::from_millis(settings.timeout_ms);
        let connector = awc::Connector::new()
            .timeout(Duration::from_millis(settings.connect_timeout_ms))
            .limit(settings.max_connections)
            .conn_keep_alive(IDLE_CONNECTION_KEPT);
        let client = awc::Client::builder()
            .connector(connector)
            // Only the client's own headers go upstream (no `User-Agent: awc`).
            .no_default_headers()
            // Redirects are the client's business: pass them through.
            .disable_redirects()
            .timeout(timeout)
            .finish();
        Self {
            client,
            timeout,
            max_body_bytes: settings.max_body_bytes,
        }
    }

    /// Sends `req` to a healthy instance of `upstream`, round robin. An instance that
    /// refuses the connection is taken out of rotation, and an idempotent request
    /// whose body was not read yet is retried once on another instance.
    pub async fn forward(
        &self,
        req: &HttpRequest,
        payload: Payload,
        upstream: &Upstream,
    ) -> Result<HttpResponse, GatewayError> {
        let service = upstream.service;
        let body = RequestBody::new(req.headers(), payload, self.max_body_bytes)?;
        let headers = headers::to_upstream(req);
        let path_and_query = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
        let mut failed = None;
        loop {
            let index = upstream
                .pick(failed)
                .ok_or_else(|| GatewayError::unavailable(service))?;
            let instance = &upstream.instances[index];
            let uri = Uri::try_from(format!("{}{path_and_query}", instance.base_url))
                .map_err(|_| GatewayError::unavailable(service))?;
            let mut request = self.client.request(req.method().clone(), uri);
            *request.headers_mut() = headers.clone();
            let sent = match body.for_attempt() {
                Some(body) => request.send_body(body).await,
                None => request.send().await,
            };
            let error = match sent {
                Ok(res) => return Ok(response::to_client(res, req.method(), self.timeout)),
                Err(error) => error,
            };
            if body.exceeded_limit() {
                return Err(GatewayError::too_large(self.max_body_bytes));
            }
            let SendRequestError::Connect(error) = error else {
                return Err(match error {
                    SendRequestError::Timeout => GatewayError::timeout(service),
                    other => GatewayError::bad_gateway(service, &other),
                });
            };
            tracing::warn!(%service, instance = %instance.base_url, %error, "cannot connect");
            instance.set_healthy(service, false);
            let may_retry = failed.is_none() && is_idempotent(req.method()) && body.is_replayable();
            if !may_retry {
                return Err(GatewayError::unavailable(service));
            }
            failed = Some(index);
        }
    }
}

/// Methods a client may repeat with the same effect, so a retry cannot do harm twice.
fn is_idempotent(method: &Method) -> bool {
    [Method::GET, Method::HEAD, Method::PUT, Method::DELETE].contains(method)
}
