//! order-service: orders of Comanda and the choreography that confirms or rejects them.
//!
//! `POST /api/v1/orders` stores the order PENDING and `order.created.pending` in one
//! transaction and answers 202; product-service answers with
//! `inventory.stock.reserved` (→ CONFIRMED, priced) or `inventory.stock.failed`
//! (→ REJECTED). A cancel publishes `order.cancelled`, on which product-service gives
//! the stock back (or, if the cancel reaches it first, never takes it).
//!
//! No order stays PENDING: the stock request has a durable deadline (`[saga]`
//! settings). Unanswered, it is sent again; after the last attempt the order is
//! REJECTED with reason `timeout` and `order.cancelled` compensates.
//!
//! # Layout
//! - [`settings`]: typed settings (`[auth]`, `[saga]`) and their compiled-in defaults
//!   (`config/default.toml`).
//! - [`startup`]: migrations, inbox, deadline worker and HTTP server: the
//!   [`startup::Application`].
//! - [`routes`]: the order endpoints.
//! - [`domain`]: request validation, idempotency keys, and the status machine.
//! - [`events`]: payloads, the stock-reply handlers and the stock request's deadline.
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
