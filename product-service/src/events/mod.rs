//! What product-service publishes and how it reacts to order events.
//!
//! - [`payloads`]: the `data` of the events it publishes and consumes.
//! - [`reserve`]: `order.created.pending` → reserve all lines or none.
//! - [`release`]: `order.cancelled` → give a reservation back, once.
//!
//! # Cancel before reservation
//! `order.created.pending` and `order.cancelled` travel on different topics, so the
//! cancel can arrive first. It then leaves a `CANCELLED` tombstone reservation, and the
//! later pending event reserves nothing and emits nothing: the order is already
//! cancelled, so there is nobody to answer.
//!
//! # A request sent again
//! order-service sends `order.created.pending` again (a new event id) when no answer
//! reached it in time. The reservation row makes it a duplicate whatever its id: the
//! earlier decision is answered again (reserved lines or shortfalls), nothing is
//! reserved twice, and a released or cancelled order gets no answer.

pub mod payloads;
pub mod release;
pub mod reserve;

/// `source` of every event product-service writes.
pub const SOURCE: &str = "product-service";
/// Consumer group (and dedupe scope) of product-service's inbox.
pub const GROUP: &str = "product-service";
