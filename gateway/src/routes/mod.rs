//! The gateway's own routes, one file per concern.
//!
//! The kit already serves `/health`, `/ready` and `/metrics`; the gateway serves the API
//! documentation under `/api/docs` itself (see [`docs`]); everything else under
//! `/api/v1` and the token key set is forwarded (see [`proxy`]).

pub mod docs;
pub mod proxy;

use actix_web::web;
use comanda_kit::auth::JwtVerifier;

use crate::cors;
use crate::docs::Docs;
use crate::proxy::Proxy;
use crate::routing::{JWKS_PATH, PREFIXES};
use crate::settings::{CorsSettings, ProxySettings};
use crate::state::Edge;

/// What the routes need, cloned into every actix worker.
#[derive(Clone)]
pub struct RouteContext {
    /// The shared proxy state.
    pub edge: web::Data<Edge>,
    /// Verifies access tokens at the edge.
    pub verifier: web::Data<JwtVerifier>,
    /// The merged API documentation.
    pub docs: web::Data<Docs>,
    /// Cross-origin policy (a middleware is built per worker).
    pub cors: CorsSettings,
    /// Limits of forwarded requests (a [`Proxy`] is built per worker).
    pub proxy: ProxySettings,
}

/// Registers the docs and the forwarded routes, with CORS around them.
///
/// Called once per worker thread, which gets its own [`Proxy`].
pub fn configure(context: &RouteContext, cfg: &mut web::ServiceConfig) {
    let proxy = web::Data::new(Proxy::new(&context.proxy));
    cfg.service(
        // An empty prefix: the scope exists to wrap the forwarded routes (and the 404
        // answers next to them) in the gateway's middleware.
        web::scope("")
            .app_data(context.edge.clone())
            .app_data(proxy)
            .app_data(context.verifier.clone())
            .app_data(context.docs.clone())
            .wrap(cors::middleware(&context.cors))
            // Routes are tried in order: the hot ones first, and all of them
            // plain-text matches ahead of the docs' patterns.
            .configure(forwarded_prefixes)
            .service(web::resource(JWKS_PATH).to(proxy::forward))
            .configure(docs::configure),
    );
}

/// One scope per service prefix, forwarding everything under it. A scope's prefix is
/// matched as plain text (whole segments); a `{tail:.*}` pattern would run a regex
/// on every request.
fn forwarded_prefixes(cfg: &mut web::ServiceConfig) {
    for (prefix, _) in PREFIXES {
        cfg.service(web::scope(prefix).default_service(web::to(proxy::forward)));
    }
}
