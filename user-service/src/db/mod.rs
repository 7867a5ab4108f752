//! Database access of user-service.

pub mod profiles;
pub mod schema;
