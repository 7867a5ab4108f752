//! payment-service: the payments of orders, taken through a provider's checkout.
//!
//! # Layout
//! - [`settings`]: typed settings (`[auth]`, `[provider]`, `[saga]`) and their
//!   compiled-in defaults (`config/default.toml`).
//! - [`domain`]: the payment status machine and money.
//! - [`provider`]: the [`provider::PaymentProvider`] trait, the sandbox's HTTP adapter,
//!   webhook signatures and events.
//! - [`db`]: the diesel schema and the queries.
//! - [`metrics`]: the service's counters.
//! - `migrations/`: this service's SQL migrations, embedded as [`MIGRATIONS`].

pub mod db;
pub mod domain;
pub mod metrics;
pub mod provider;
pub mod settings;

use diesel_migrations::{embed_migrations, EmbeddedMigrations};

/// This service's own migrations.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");
