//! HTTP routes of order-service, one folder per resource.
//!
//! The kit already serves `/health`, `/ready` and `/metrics`, and hands handlers the pool
//! as `web::Data<comanda_kit::db::Pool>`; start-up adds the `JwtVerifier` and
//! [`orders::OrderTopics`]. [`openapi`] documents the routes, served at
//! `GET /openapi.json`.

pub mod openapi;
pub mod orders;

use actix_web::web;
use utoipa::OpenApi as _;

/// Registers order-service's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    comanda_kit::openapi::serve(cfg, openapi::ApiDoc::openapi());
    cfg.service(
        web::scope("/api/v1/orders")
            .route("", web::post().to(orders::create::create))
            .route("", web::get().to(orders::read::list))
            .route("/{id}", web::get().to(orders::read::get))
            .route("/{id}/cancel", web::post().to(orders::cancel::cancel))
            .route("/{id}/timeline", web::get().to(orders::read::timeline)),
    );
}
