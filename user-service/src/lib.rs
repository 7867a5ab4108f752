//! user-service: user profiles of Comanda.
//!
//! Built on `comanda-kit` (settings, logs, problems, pool, health, shutdown) and
//! `comanda-outbox` (its tables are migrated into this service's database first).
//!
//! # Layout
//! - [`settings`]: typed settings and their compiled-in defaults (`config/default.toml`).
//! - [`startup`]: migrations, pool and HTTP server, ready to run until shutdown.
//! - [`routes`]: this service's HTTP handlers.
//! - [`db`]: the diesel schema of this service's tables.
//! - `migrations/`: this service's SQL migrations, embedded as [`MIGRATIONS`].

pub mod db;
pub mod routes;
pub mod settings;
pub mod startup;

use diesel_migrations::{embed_migrations, EmbeddedMigrations};

/// This service's own migrations; [`startup`] runs them after the outbox's.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");
