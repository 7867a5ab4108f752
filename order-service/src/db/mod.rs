//! Database access of order-service: the schema and the queries, one file per table
//! family.

pub mod idempotency;
pub mod orders;
pub mod schema;
pub mod timeline;
