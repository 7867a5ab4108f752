//! product-service: the product catalogue of Comanda and its stock.
//!
//! Admins keep the catalogue (`/api/v1/products`); every change is announced on
//! `product.upserted` / `product.deleted`. Orders reserve stock by choreography: an
//! `order.created.pending` event is answered with `inventory.stock.reserved` (all lines
//! held) or `inventory.stock.failed` (none held), and `order.cancelled` gives a
//! reservation back exactly once (`inventory.stock.released`).
//!
//! # Layout
//! - [`settings`]: typed settings and their compiled-in defaults (`config/default.toml`).
//! - [`startup`]: migrations, demo seed, inbox and HTTP server: the [`startup::Application`].
//! - [`routes`]: the catalogue endpoints.
//! - [`domain`]: product validation and the all-or-nothing reservation plan.
//! - [`events`]: published payloads and the order-event handlers.
//! - [`db`]: the diesel schema and the queries.
//! - [`seed`]: demo products for `env = "dev"`.
//! - `migrations/`: this service's SQL migrations, embedded as [`MIGRATIONS`].

pub mod db;
pub mod domain;
pub mod events;
pub mod routes;
pub mod seed;
pub mod settings;
pub mod startup;

use diesel_migrations::{embed_migrations, EmbeddedMigrations};

/// This service's own migrations; [`startup`] runs them after the outbox's.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");
