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
    // One resource per path, so a method it does not serve is a 405 naming the ones it
    // does (kit::problem::method_not_allowed), not a 404.
    cfg.service(
        web::scope("/api/v1/orders")
            .service(
                web::resource("")
                    .post(orders::create::create)
                    .get(orders::read::list),
            )
            .service(web::resource("/{id}").get(orders::read::get))
            .service(web::resource("/{id}/cancel").post(orders::cancel::cancel))
            .service(web::resource("/{id}/timeline").get(orders::read::timeline)),
    );
}
