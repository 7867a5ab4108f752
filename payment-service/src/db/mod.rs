//! Database access of payment-service: the schema and the queries, one file per table.

pub mod payments;
pub mod schema;
pub mod webhook_events;
