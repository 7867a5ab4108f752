//! HTTP routes of auth-service, one file per resource.
//!
//! The kit already serves `/health`, `/ready` and `/metrics`, and hands handlers the pool
//! as `web::Data<comanda_kit::db::Pool>`; start-up adds the `JwtVerifier`, the
//! [`crate::tokens::Issuer`], [`register::RegistrationTopic`], [`jwks::Jwks`], the
//! bounded [`crate::hashing::Hashing`] and [`accounts::PollTokenTtl`].
//! [`openapi`] documents them all, served at `GET /openapi.json`.

pub mod accounts;
pub mod jwks;
pub mod openapi;
pub mod register;
pub mod sessions;

use actix_web::web;
use utoipa::OpenApi as _;

/// Registers auth-service's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    comanda_kit::openapi::serve(cfg, openapi::ApiDoc::openapi());
    // One resource per path, so a method it does not serve is a 405 naming the ones it
    // does (kit::problem::method_not_allowed), not a 404.
    cfg.service(web::resource("/.well-known/jwks.json").get(jwks::get))
        .service(
            web::scope("/api/v1/auth")
                .service(web::resource("/register").post(register::register))
                .service(web::resource("/accounts/{id}").get(accounts::get))
                .service(web::resource("/login").post(sessions::login))
                .service(web::resource("/refresh").post(sessions::refresh))
                .service(web::resource("/logout").post(sessions::logout)),
        );
}
