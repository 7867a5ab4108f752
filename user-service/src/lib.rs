//! user-service: user profiles of Comanda.
//!
//! Profiles are born from the registration flow: auth-service publishes
//! `creating.user`, this service creates the profile under the account's id (or
//! finds the email taken) and answers on `creating.user.response` — dedupe, effect
//! and answer in one transaction. Users then read and edit their own profile; staff
//! read anyone's.
//!
//! Built on `comanda-kit` (settings, logs, problems, pool, health, shutdown, JWT
//! verification) and `comanda-outbox` (its tables are migrated into this database first).
//!
//! # Layout
//! - [`settings`]: typed settings (`[auth]` verification) and compiled-in defaults.
//! - [`startup`]: migrations, the inbox and the HTTP server.
//! - [`routes`]: `/api/v1/users` (me, by id, list).
//! - [`domain`]: profile fields as newtypes.
//! - [`events`]: the registration payloads and the `creating.user` handler.
//! - [`db`]: schema and queries of `profiles`.
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
