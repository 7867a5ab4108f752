//! Token check at the edge: a protected request without a valid access token is
//! answered 401 here and never reaches a service.
//!
//! Services verify the token again (defence in depth), so the header is forwarded
//! unchanged; checking here first keeps unauthenticated traffic off the services.

use actix_web::http::{header, Method};
use actix_web::{FromRequest, HttpRequest};
use comanda_kit::auth::AuthUser;
use comanda_kit::problem::Problem;

/// The caller when the request carries a valid access token, else the kit's 401
/// problem (`unauthorized` without one, `invalid_token` for a bad or expired one).
///
/// Needs `web::Data<JwtVerifier>` in the app data, as the kit's extractor does.
pub async fn require_token(req: &HttpRequest) -> Result<AuthUser, Problem> {
    AuthUser::extract(req).await
}

/// Header with the one-time token auth-service hands out at registration.
pub const POLL_TOKEN: &str = "x-poll-token";

/// True for a registrant polling its own account before it can log in: a `GET` of
/// `/api/v1/auth/accounts/{id}` (`path`, normalized: see
/// [`crate::routing::normalize`]) with `X-Poll-Token` and no bearer token. The edge
/// lets it through because only auth-service can check a poll token; a request
/// that also carries a bearer token is checked as usual.
pub fn polls_own_registration(req: &HttpRequest, path: &str) -> bool {
    let headers = req.headers();
    req.method() == Method::GET
        && path.starts_with("/api/v1/auth/accounts/")
        && headers.contains_key(POLL_TOKEN)
        && !headers.contains_key(header::AUTHORIZATION)
}
