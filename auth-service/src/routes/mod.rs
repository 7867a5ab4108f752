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
    cfg.route("/.well-known/jwks.json", web::get().to(jwks::get))
        .service(
            web::scope("/api/v1/auth")
                .route("/register", web::post().to(register::register))
                .route("/accounts/{id}", web::get().to(accounts::get))
                .route("/login", web::post().to(sessions::login))
                .route("/refresh", web::post().to(sessions::refresh))
                .route("/logout", web::post().to(sessions::logout)),
        );
}
