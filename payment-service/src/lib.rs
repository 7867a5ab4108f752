//! payment-service: the payments of orders, taken through a provider's checkout.
//!
//! order-service publishes `payment.requested` when an order's stock is held; this
//! service stores one payment per order and has the provider open a checkout session
//! (`payment.created`, with the URL the customer pays at). The provider reports the
//! outcome with signed webhooks: `payment.succeeded` or `payment.failed`. When the
//! order is cancelled (`order.cancelled`: by its customer, expired unpaid, or its
//! payment failed) the session is voided, a captured charge refunded
//! (`payment.refunded`), or, if the request has not arrived yet, a tombstone keeps it
//! from ever creating a session. A charge captured for an order that was given up
//! (the provider's success racing the order's expiry) is refunded too, and the order
//! is not revived.
//!
//! Money safety rests on three things: one payment per order (`order_id` unique);
//! provider calls made only by durable deadlines, retried with the same idempotency
//! key (the payment id; `refund-<payment id>`); and the webhook applied in one
//! transaction with its provider event id (unique), its state change and its outbox
//! row, answered 2xx only after commit.
//!
//! # Layout
//! - [`settings`]: typed settings (`[auth]`, `[provider]`, `[saga]`) and their
//!   compiled-in defaults (`config/default.toml`).
//! - [`startup`]: migrations, inbox, deadline worker and HTTP server: the
//!   [`startup::Application`].
//! - [`routes`]: reading payments, and the provider's webhook.
//! - [`domain`]: the payment status machine and money.
//! - [`provider`]: the [`provider::PaymentProvider`] trait, the sandbox's HTTP adapter,
//!   webhook signatures and events.
//! - [`events`]: payloads, the consumers of `payment.requested` and `order.cancelled`,
//!   and the webhook's effects.
//! - [`calls`]: the provider calls (create, void, refund) as deadline handlers.
//! - [`db`]: the diesel schema and the queries.
//! - [`metrics`]: the service's counters.
//! - `migrations/`: this service's SQL migrations, embedded as [`MIGRATIONS`].

pub mod calls;
pub mod db;
pub mod domain;
pub mod events;
pub mod metrics;
pub mod provider;
pub mod routes;
pub mod settings;
pub mod startup;

use diesel_migrations::{embed_migrations, EmbeddedMigrations};

/// This service's own migrations; [`startup`] runs them after the outbox's.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");
