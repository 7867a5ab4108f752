//! HTTP routes of user-service, one file per resource.
//!
//! The kit already serves `/health`, `/ready` and `/metrics`, and hands handlers the pool
//! as `web::Data<comanda_kit::db::Pool>`.

use actix_web::web;

/// Registers user-service's routes (none yet).
pub fn configure(_cfg: &mut web::ServiceConfig) {}
