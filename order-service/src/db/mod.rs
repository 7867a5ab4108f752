//! Database access of order-service: the schema and the queries, one file per table
//! family (an order's payment columns apart from the rest of the order).

pub mod idempotency;
pub mod orders;
pub mod payments;
pub mod schema;
pub mod timeline;
