//! Database access of product-service.

pub mod schema;
