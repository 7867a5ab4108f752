//! The forwarded routes: checks at the edge, then the request goes upstream.

use std::borrow::Cow;

use actix_web::web::{Data, Payload};
use actix_web::{HttpMessage as _, HttpRequest, HttpResponse};
use comanda_kit::problem::Problem;
use comanda_kit::request_log::RouteName;

use crate::edge_auth;
use crate::error::GatewayError;
use crate::proxy::Proxy;
use crate::routing;
use crate::state::Edge;

/// Refuses what must not reach a service — odd paths, unknown prefixes, too many
/// login attempts, missing or invalid tokens, too many orders of one user — then
/// forwards the rest.
pub async fn forward(
    req: HttpRequest,
    payload: Payload,
    edge: Data<Edge>,
    proxy: Data<Proxy>,
) -> Result<HttpResponse, GatewayError> {
    // Every decision below is taken on the path the service will route on, and that
    // path is the one forwarded.
    let normalized = routing::normalize(req.path());
    let (method, path) = (req.method(), normalized.as_ref());
    if routing::has_dot_segments(path) {
        return Err(Problem::bad_request("invalid_path", "dot segments are not allowed").into());
    }
    let service = routing::service_for(path)
        .ok_or_else(|| Problem::not_found(format!("no route for {method} {path}")))?;
    if path != routing::JWKS_PATH {
        // The scopes' catch-all has no pattern to name the route by.
        req.extensions_mut().insert(RouteName(service.route_name()));
    }
    if let (Some(endpoint), Some(peer)) = (routing::rate_limited(method, path), req.peer_addr()) {
        let limits = &edge.rate_limits;
        let client = limits.trusted_proxies.client(peer.ip(), req.headers());
        limits
            .check(client, endpoint)
            .map_err(|retry_after| GatewayError::RateLimited { retry_after })?;
    }
    if !routing::is_public(method, path) && !edge_auth::polls_own_registration(&req, path) {
        let user = edge_auth::require_token(&req).await?;
        // Keyed by the verified subject: an unverified token must not spend anyone's quota.
        if let Some(endpoint) = routing::rate_limited_per_user(method, path) {
            edge.rate_limits
                .check_user(user.id, endpoint)
                .map_err(|retry_after| GatewayError::RateLimited { retry_after })?;
        }
    }
    let path_and_query = match (&normalized, req.uri().query()) {
        (Cow::Borrowed(_), _) => {
            Cow::Borrowed(req.uri().path_and_query().map_or("/", |pq| pq.as_str()))
        }
        (Cow::Owned(path), Some(query)) => Cow::Owned(format!("{path}?{query}")),
        (Cow::Owned(path), None) => Cow::Borrowed(path.as_str()),
    };
    proxy
        .forward(&req, &path_and_query, payload, edge.upstreams.get(service))
        .await
}
