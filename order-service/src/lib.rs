//! order-service: orders of Comanda and the choreography that confirms, pays, rejects
//! or ends them.
//!
//! `POST /api/v1/orders` stores the order PENDING and `order.created.pending` in one
//! transaction and answers 202; product-service answers with
//! `inventory.stock.reserved` (→ CONFIRMED, priced, and `payment.requested` in the same
//! transaction) or `inventory.stock.failed` (→ REJECTED). payment-service answers the
//! request with `payment.created` (the checkout, shown on the order), then
//! `payment.succeeded` (→ PAID; an amount that is not the total → CANCELLED
//! `amount_mismatch`) or `payment.failed` (→ CANCELLED `payment_failed`). A cancel
//! (PENDING, CONFIRMED or PAID) publishes `order.cancelled` with its reason, on which
//! product-service gives the stock back (or, if the cancel reaches it first, never
//! takes it) and payment-service voids the checkout or refunds (`payment.refunded`).
//!
//! No order waits for ever: the stock request has a durable deadline (`[saga]`
//! settings). Unanswered, it is sent again; after the last attempt the order is
//! REJECTED with reason `timeout` and `order.cancelled` compensates. A CONFIRMED order
//! has a payment deadline (`[payment]`): not paid by then, it is EXPIRED and
//! `order.cancelled` (reason `expired`) compensates.
//!
//! # Layout
//! - [`settings`]: typed settings (`[auth]`, `[saga]`, `[orders]`, `[payment]`) and
//!   their compiled-in defaults (`config/default.toml`).
//! - [`startup`]: migrations, inbox, deadline worker and HTTP server: the
//!   [`startup::Application`].
//! - [`routes`]: the order endpoints.
//! - [`domain`]: request validation, idempotency keys, the status machine, reasons,
//!   and what a payment shows.
//! - [`events`]: payloads, the stock-reply and payment handlers, and the deadlines of
//!   the stock request and the payment.
//! - [`db`]: the diesel schema and the queries.
//! - `migrations/`: this service's SQL migrations, embedded as [`MIGRATIONS`].

pub mod db;
pub mod domain;
pub mod events;
pub mod routes;
pub mod settings;
pub mod startup;

use diesel_migrations::{embed_migrations, EmbeddedMigrations};

/// This service's own migrations; [`startup`] runs them after the outbox's.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");
