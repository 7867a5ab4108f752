//! auth-service: credentials and sign-in of Comanda; issues the tokens every service
//! verifies.
//!
//! Registration is a choreographed flow: `POST /register` stores a PENDING account and,
//! in the same transaction, a `creating.user` event in the outbox; user-service creates
//! the profile and answers on `creating.user.response`, which makes the account ACTIVE
//! (it may log in) or REJECTED. The request has a durable deadline (`[saga]`): sent
//! again while unanswered, then the account is REJECTED with reason `timeout`; a
//! REJECTED account frees its email.
//!
//! Built on `comanda-kit` (settings, logs, problems, pool, health, shutdown, JWTs) and
//! `comanda-outbox` (outbox, inbox; its tables are migrated into this database first).
//!
//! # Layout
//! - [`settings`]: typed settings (`[auth]` keys and lifetimes, `[admin]`, `[saga]`) and
//!   defaults.
//! - [`startup`]: migrations, admin bootstrap, inbox, deadline worker and HTTP server.
//! - [`routes`]: register, account status, login/refresh/logout, JWKS.
//! - [`domain`]: parsed registration fields, password hashing, statuses, secret tokens.
//! - [`tokens`]: issuing a session (access JWT + rotating refresh token).
//! - [`hashing`]: password hashing, a bounded number at once (503 `busy` beyond).
//! - [`events`]: the registration payloads, the `creating.user.response` handler and
//!   the profile request's deadline.
//! - [`bootstrap`]: the admin account from settings.
//! - [`db`]: schema and queries of `accounts` and `refresh_tokens`.
//! - `migrations/`: this service's SQL migrations, embedded as [`MIGRATIONS`].

pub mod bootstrap;
pub mod db;
pub mod domain;
pub mod events;
pub mod hashing;
pub mod routes;
pub mod settings;
pub mod startup;
pub mod tokens;

use diesel_migrations::{embed_migrations, EmbeddedMigrations};

/// This service's own migrations; [`startup`] runs them after the outbox's.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");
