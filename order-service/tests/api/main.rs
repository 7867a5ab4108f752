//! order-service API tests: one binary; each test runs order-service and
//! product-service on fresh databases, its own topic prefix and in-process relays.

mod backlog;
mod cancel;
mod counts;
mod deadlines;
mod fuzz;
mod health;
mod helpers;
mod idempotency;
mod open_orders;
mod openapi;
mod orders;
mod outage;
mod overflow;
mod paying;
mod payment_deadlines;
mod payments;
mod plans;
mod redelivery;
mod saga;
