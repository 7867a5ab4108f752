//! HTTP routes of order-service, one folder per resource.
//!
//! The kit already serves `/health`, `/ready` and `/metrics`, and hands handlers the pool
//! as `web::Data<comanda_kit::db::Pool>`; start-up adds the `JwtVerifier` and
//! [`orders::OrderTopics`].

pub mod orders;

use actix_web::web;

/// Registers order-service's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1/orders")
            .route("", web::post().to(orders::create::create))
            .route("", web::get().to(orders::read::list))
            .route("/{id}", web::get().to(orders::read::get))
            .route("/{id}/cancel", web::post().to(orders::cancel::cancel))
            .route("/{id}/timeline", web::get().to(orders::read::timeline)),
    );
}
