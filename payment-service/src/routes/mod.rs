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
    // One resource per path, so a method it does not serve is a 405 naming the ones it
    // does (kit::problem::method_not_allowed), not a 404.
    cfg.service(
        web::scope("/api/v1/payments")
            // Before `/{id}`: a path matched by a resource is answered by it.
            .service(web::resource("/webhooks/sandbox").post(webhooks::sandbox))
            .service(web::resource("").get(payments::by_order))
            .service(web::resource("/{id}").get(payments::get)),
    );
}
