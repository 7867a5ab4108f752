//! HTTP routes of product-service, one file per resource.
//!
//! The kit already serves `/health`, `/ready` and `/metrics`, and hands handlers the pool
//! as `web::Data<comanda_kit::db::Pool>`; start-up adds the `JwtVerifier` and
//! [`products::CatalogTopics`]. [`openapi`] documents the routes, served at
//! `GET /openapi.json`; [`precondition`] is the `ETag` / `If-Match` of products.

pub mod openapi;
pub mod precondition;
pub mod products;
pub mod stock_adjustments;

use actix_web::web;
use utoipa::OpenApi as _;

/// Registers product-service's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    comanda_kit::openapi::serve(cfg, openapi::ApiDoc::openapi());
    cfg.service(
        web::scope("/api/v1/products")
            .route("", web::get().to(products::list))
            .route("", web::post().to(products::create))
            .route("/{id}", web::get().to(products::get))
            .route("/{id}", web::put().to(products::replace))
            .route("/{id}", web::delete().to(products::delete))
            .route(
                "/{id}/stock-adjustments",
                web::post().to(stock_adjustments::create),
            )
            .route(
                "/{id}/stock-adjustments",
                web::get().to(stock_adjustments::list),
            ),
    );
}
