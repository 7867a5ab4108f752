//! sandbox-provider: a card processor's test mode, as a real HTTP peer of
//! payment-service.
//!
//! Merchants create checkout sessions (idempotent on the `Idempotency-Key`), read,
//! void and refund them; customers enter a test card on the hosted checkout page; the
//! outcome is reported by signed webhooks (`Sandbox-Signature`, see [`signature`]),
//! retried with backoff until the receiver answers 2xx. Settings turn on the ways real
//! processors misbehave: every event twice, batches in reverse order, late events.
//!
//! State lives in memory (one process, nothing survives a restart): this is a test
//! double with real HTTP, not a ledger. It needs no database and no broker.
//!
//! # Layout
//! - [`settings`]: typed settings (listener, public URL, delayed card, `[webhook]` knobs).
//! - [`startup`]: the webhook dispatcher, the processor and the HTTP server.
//! - [`routes`]: `/v1/checkout/sessions`, `/v1/refunds`, the checkout page `/checkout/{id}`.
//! - [`processor`]: sessions, refunds and idempotency keys in memory; emits the events.
//! - [`domain`]: the test cards and the session's state machine.
//! - [`webhooks`]: the event body and its delivery (queue, knobs, retries).
//! - [`signature`]: signing and parsing `Sandbox-Signature` (payment-service's tests
//!   forge webhooks with [`sign`]).
//! - [`error`]: the API's problem codes.

pub mod domain;
pub mod error;
pub mod processor;
pub mod routes;
pub mod settings;
pub mod signature;
pub mod startup;
pub mod webhooks;

pub use signature::sign;
