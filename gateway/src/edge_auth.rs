//! Token check at the edge: a protected request without a valid access token is
//! answered 401 here and never reaches a service.
//!
//! Services verify the token again (defence in depth), so the header is forwarded
//! unchanged; checking here first keeps unauthenticated traffic off the services.

use actix_web::{FromRequest, HttpRequest};
use comanda_kit::auth::AuthUser;
use comanda_kit::problem::Problem;

/// Ok when the request carries a valid access token, else the kit's 401 problem
/// (`unauthorized` without one, `invalid_token` for a bad or expired one).
///
/// Needs `web::Data<JwtVerifier>` in the app data, as the kit's extractor does.
pub async fn require_token(req: &HttpRequest) -> Result<(), Problem> {
    AuthUser::extract(req).await.map(|_| ())
}
