//! The one outbox/inbox implementation of Comanda. Every service uses it; none
//! copies it.
//!
//! A service writes its domain change and the events describing it in ONE
//! transaction ([`append`]); the relay ([`relay`]) publishes committed events to
//! Kafka; consumers ([`inbox`]) apply each event at most once by recording it in
//! `processed_messages` in the same transaction as its effect.
//!
//! # Layout
//! - [`envelope`]: the event envelope (id, type, version, source, aggregate id,
//!   correlation and causation ids, time, data).
//! - [`writer`]: [`append`], adding an event to the outbox in the caller's transaction.
//! - [`relay`]: the relay engine — leadership per source, batches, acks, retention.
//! - [`inbox`]: the idempotent consumer runtime and its dead-letter topic.
//! - [`deadline`]: durable saga deadlines (scheduled in the step's transaction, fired
//!   once by a `FOR UPDATE SKIP LOCKED` worker) and their worker.
//! - [`dead_letters`]: reading the dead-letter topic and replaying its entries.
//! - [`topics`]: the topic catalogue and idempotent topic creation.
//! - [`kafka`]: client settings and header names shared by both sides.
//! - [`schema`]: diesel schema of the `outbox`, `processed_messages` and
//!   `saga_deadlines` tables.
//! - `migrations/`: the SQL creating those tables, embedded as [`MIGRATIONS`]; every
//!   service runs it before its own migrations.

pub mod dead_letters;
pub mod deadline;
pub mod envelope;
pub mod inbox;
pub mod kafka;
pub mod relay;
pub mod schema;
pub mod topics;
pub mod writer;

use diesel_migrations::{embed_migrations, EmbeddedMigrations};

pub use envelope::Envelope;
pub use inbox::{Handler, HandlerError, Inbox, Outcome};
pub use writer::append;

/// The outbox and processed-message tables, for every service's migration run.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");
