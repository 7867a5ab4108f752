//! Database access of order-service.

pub mod schema;
