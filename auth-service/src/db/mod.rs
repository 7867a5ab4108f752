//! Database access of auth-service.

pub mod schema;
