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
    // One resource per path, so a method it does not serve is a 405 naming the ones it
    // does (kit::problem::method_not_allowed), not a 404.
    cfg.service(
        web::scope("/api/v1/products")
            .service(web::resource("").get(products::list).post(products::create))
            .service(
                web::resource("/{id}")
                    .get(products::get)
                    .put(products::replace)
                    .delete(products::delete),
            )
            .service(
                web::resource("/{id}/stock-adjustments")
                    .post(stock_adjustments::create)
                    .get(stock_adjustments::list),
            ),
    );
}
