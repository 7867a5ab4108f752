//! Database access of product-service: the schema, row types and the queries, one file
//! per table family.

pub mod products;
pub mod reservations;
pub mod schema;
pub mod stock_adjustments;
