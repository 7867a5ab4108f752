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
use awc::error::{ConnectError, SendRequestError};

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

    /// Sends `req` to `path_and_query` of a healthy instance of `upstream`, round
    /// robin, and tries once more where that is safe (see [`Failure`]).
    pub async fn forward(
        &self,
        req: &HttpRequest,
        path_and_query: &str,
        payload: Payload,
        upstream: &Upstream,
    ) -> Result<HttpResponse, GatewayError> {
        let service = upstream.service;
        let body = RequestBody::new(req.headers(), payload, self.max_body_bytes)?;
        let headers = headers::to_upstream(req);
        let mut excluded = None;
        let mut retried = false;
        loop {
            let index = upstream
                .pick(excluded)
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
            let may_retry = !retried && is_idempotent(req.method()) && body.is_replayable();
            match Failure::of(error) {
                Failure::Unreachable(error) => {
                    tracing::warn!(%service, instance = %instance.base_url, %error, "cannot connect");
                    instance.set_healthy(service, false);
                    if !may_retry {
                        return Err(GatewayError::unavailable(service));
                    }
                    excluded = Some(index);
                }
                Failure::Lost(error) if may_retry => {
                    tracing::warn!(
                        %service, instance = %instance.base_url, %error,
                        "connection lost before an answer; sending again on a fresh one"
                    );
                    // The instance may be fine: a kept-alive connection it had just
                    // closed looks like this. Any healthy instance may take the retry.
                    excluded = None;
                }
                Failure::Lost(error) | Failure::Broken(error) => {
                    return Err(GatewayError::bad_gateway(service, &error));
                }
                Failure::TimedOut => return Err(GatewayError::timeout(service)),
            }
            retried = true;
        }
    }
}

/// Why an exchange with an instance failed, and so what may follow.
enum Failure {
    /// No connection could be made: nothing was sent. The instance leaves rotation.
    Unreachable(SendRequestError),
    /// The connection broke before a response head came back: the request may have
    /// been received, so only an idempotent one may be sent again. awc reports a
    /// pooled connection the upstream closed under the request as a connect error
    /// (`Disconnected`), although the request was written.
    Lost(SendRequestError),
    /// Anything else (an unparsable answer, a bad request head): a 502.
    Broken(SendRequestError),
    /// No answer within the timeout: a 504.
    TimedOut,
}

impl Failure {
    fn of(error: SendRequestError) -> Self {
        match error {
            SendRequestError::Connect(ConnectError::Disconnected) | SendRequestError::Send(_) => {
                Self::Lost(error)
            }
            SendRequestError::Connect(_) => Self::Unreachable(error),
            SendRequestError::Timeout => Self::TimedOut,
            other => Self::Broken(other),
        }
    }
}

/// Methods a client may repeat with the same effect, so a retry cannot do harm twice.
fn is_idempotent(method: &Method) -> bool {
    [Method::GET, Method::HEAD, Method::PUT, Method::DELETE].contains(method)
}
