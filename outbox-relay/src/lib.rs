//! The outbox relay: publishes the committed outbox rows of every Comanda service
//! database to Kafka. The engine lives in `comanda_outbox::relay`; this crate is
//! the process around it: settings, one task per source, an HTTP port for
//! `/health`, `/ready` and `/metrics`, the DLQ gauges, and graceful shutdown.
//!
//! Run two instances for availability: per source, the one holding the source's
//! advisory lock publishes, the other stands by and takes over within about
//! `relay.standby_poll_ms` after the first dies.
//!
//! # Layout
//! - [`settings`]: sources (one Postgres URL per service database), broker, tuning.
//! - [`startup`]: [`startup::Application`], which binds the HTTP port and runs one
//!   relay task per source until shutdown.
//! - [`dlq_watch`]: reads the dead-letter topic and keeps the `dlq_entries` and
//!   `dlq_oldest_entry_age_seconds` gauges current.

pub mod dlq_watch;
pub mod settings;
pub mod startup;
