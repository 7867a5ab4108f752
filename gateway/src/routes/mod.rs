//! The gateway's own routes, one file per concern.
//!
//! The kit already serves `/health`, `/ready` and `/metrics`.

use actix_web::web;

/// Registers the gateway's routes (none yet).
pub fn configure(_cfg: &mut web::ServiceConfig) {}
