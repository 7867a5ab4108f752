//! Forwarding a request to an instance of its service, and its answer back.
//!
//! # Layout
//! - [`headers`]: what crosses the edge in each direction.
//! - [`body`]: the streamed, size-limited, replayable request body.
//! - [`response`]: the upstream's answer as the client's response.

pub mod body;
pub mod headers;
pub mod response;

use std::time::Duration;

use actix_web::http::Method;
use actix_web::web::Payload;
use actix_web::{HttpRequest, HttpResponse};

use crate::error::GatewayError;
use crate::upstreams::Upstream;
use body::RequestBody;

/// The HTTP client and limits every forwarded request shares.
pub struct Proxy {
    client: reqwest::Client,
    timeout: Duration,
    max_body_bytes: u64,
}

impl Proxy {
    /// A proxy whose connections open within `connect_timeout`, whose upstreams must
    /// answer within `timeout`, and which forwards bodies up to `max_body_bytes`.
    pub fn new(
        connect_timeout: Duration,
        timeout: Duration,
        max_body_bytes: u64,
    ) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            // Redirects are the client's business: pass them through.
            .redirect(reqwest::redirect::Policy::none())
            // Upstreams are direct addresses; an HTTP_PROXY in the environment must not
            // reroute internal traffic.
            .no_proxy()
            .tcp_nodelay(true)
            // A response body that stalls this long mid-stream is cut off too.
            .read_timeout(timeout)
            .build()?;
        Ok(Self {
            client,
            timeout,
            max_body_bytes,
        })
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
        let body = RequestBody::start(req, payload, self.max_body_bytes)?;
        let headers = headers::to_upstream(req);
        let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes())
            .map_err(|_| GatewayError::unavailable(service))?;
        let path_and_query = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
        let mut failed = None;
        loop {
            let index = upstream
                .pick(failed)
                .ok_or_else(|| GatewayError::unavailable(service))?;
            let instance = &upstream.instances[index];
            let mut request = self
                .client
                .request(
                    method.clone(),
                    format!("{}{path_and_query}", instance.base_url),
                )
                .headers(headers.clone());
            if let Some(body) = body.for_attempt() {
                request = request.body(body);
            }
            let sent = tokio::time::timeout(self.timeout, request.send()).await;
            let error = match sent {
                Ok(Ok(res)) => return Ok(response::to_client(res, req.method())),
                Err(_elapsed) => return Err(GatewayError::timeout(service)),
                Ok(Err(error)) => error,
            };
            if body.exceeded_limit() {
                return Err(GatewayError::too_large(self.max_body_bytes));
            }
            if error.is_timeout() && !error.is_connect() {
                return Err(GatewayError::timeout(service));
            }
            if !error.is_connect() {
                return Err(GatewayError::bad_gateway(service, &error));
            }
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
