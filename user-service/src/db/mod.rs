//! Database access of user-service.

pub mod schema;
