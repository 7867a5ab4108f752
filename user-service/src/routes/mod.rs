//! HTTP routes of user-service, one file per resource.
//!
//! The kit already serves `/health`, `/ready` and `/metrics`, and hands handlers the pool
//! as `web::Data<comanda_kit::db::Pool>`; start-up adds the `JwtVerifier` that every
//! route here needs (user-service verifies tokens itself, behind the gateway too).
//! [`openapi`] documents them, served at `GET /openapi.json`.

pub mod openapi;
pub mod users;

use actix_web::web;
use utoipa::OpenApi as _;

/// Registers user-service's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    comanda_kit::openapi::serve(cfg, openapi::ApiDoc::openapi());
    // `/me` before `/{id}`: otherwise "me" would be parsed (and refused) as a UUID.
    // One resource per path, so a method it does not serve is a 405 naming the ones it
    // does (kit::problem::method_not_allowed), not a 404.
    cfg.service(
        web::scope("/api/v1/users")
            .service(web::resource("").get(users::list))
            .service(web::resource("/me").get(users::me).put(users::update_me))
            .service(web::resource("/{id}").get(users::get)),
    );
}
