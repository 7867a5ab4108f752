//! HTTP routes of payment-service.
//!
//! The kit already serves `/health`, `/ready` and `/metrics`, and hands handlers the pool
//! as `web::Data<comanda_kit::db::Pool>`; start-up adds the `JwtVerifier`, the
//! [`webhooks::WebhookVerifier`] and the [`crate::events::PaymentTopics`]. [`openapi`]
//! documents the routes, served at `GET /openapi.json`.

pub mod openapi;
pub mod payments;
pub mod webhooks;

use actix_web::web;
use utoipa::OpenApi as _;

/// Registers payment-service's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    comanda_kit::openapi::serve(cfg, openapi::ApiDoc::openapi());
    cfg.service(
        web::scope("/api/v1/payments")
            // Before `/{id}`: a path matched by a resource is answered by it.
            .route("/webhooks/sandbox", web::post().to(webhooks::sandbox))
            .route("", web::get().to(payments::by_order))
            .route("/{id}", web::get().to(payments::get)),
    );
}
