//! CORS from settings, so a browser front end on another origin can call the API.

use actix_cors::Cors;
use actix_web::http::Uri;

use crate::settings::CorsSettings;

/// Response headers a browser script may read: the ids to quote, and when to retry.
const EXPOSED: [&str; 3] = ["x-request-id", "x-correlation-id", "retry-after"];

/// Fails on an origin that is neither `*` nor `scheme://host[:port]`: actix-cors would
/// only fail once the server starts its workers.
pub fn validate(settings: &CorsSettings) -> anyhow::Result<()> {
    for origin in settings.allowed_origins.iter().filter(|o| *o != "*") {
        let uri: Uri = origin
            .parse()
            .map_err(|e| anyhow::anyhow!("cors.allowed_origins: {origin:?}: {e}"))?;
        anyhow::ensure!(
            uri.scheme().is_some() && uri.host().is_some(),
            "cors.allowed_origins: {origin:?} is not scheme://host[:port]"
        );
    }
    Ok(())
}

/// The CORS middleware for `settings` (validated with [`validate`]).
pub fn middleware(settings: &CorsSettings) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(settings.allowed_methods.iter().map(String::as_str))
        .allowed_headers(settings.allowed_headers.iter().map(String::as_str))
        .expose_headers(EXPOSED)
        .max_age(settings.max_age_secs);
    if settings.allowed_origins.iter().any(|o| o == "*") {
        cors = cors.allow_any_origin();
    } else {
        for origin in &settings.allowed_origins {
            cors = cors.allowed_origin(origin);
        }
    }
    cors
}
