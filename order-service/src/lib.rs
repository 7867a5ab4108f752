//! order-service: orders of Comanda and the choreography that confirms or rejects them.
//!
//! `POST /api/v1/orders` stores the order PENDING and `order.created.pending` in one
//! transaction and answers 202; product-service answers with
//! `inventory.stock.reserved` (→ CONFIRMED, priced) or `inventory.stock.failed`
//! (→ REJECTED). A cancel publishes `order.cancelled`, on which product-service gives
//! the stock back (or, if the cancel reaches it first, never takes it).
//!
//! # Layout
//! - [`settings`]: typed settings and their compiled-in defaults (`config/default.toml`).
//! - [`startup`]: migrations, inbox and HTTP server: the [`startup::Application`].
//! - [`routes`]: the order endpoints.
//! - [`domain`]: request validation, idempotency keys, and the status machine.
//! - [`events`]: payloads and the stock-reply handlers.
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
