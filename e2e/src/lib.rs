//! End-to-end tests of Comanda: every process runs as its real binary (services, relay,
//! gateway) against real Postgres and the real broker, and the tests talk to the gateway
//! only, as a client would.
//!
//! The tests run the binaries in `target/debug/` and never build them (a build
//! started inside a running suite can relink the test binaries it is running).
//! `cargo xtask test` builds them first; alone: `cargo build --bins && cargo nextest
//! run -p e2e`.
//!
//! # Layout
//! - [`stack`] (this library): starts the whole system as real processes; kills and
//!   restarts any of them on the same port with the same environment.
//! - `logs`: where the processes' output goes; a failed test prints its end.
//! - `tests/e2e/`: a customer's whole journey through the gateway.
//! - `tests/chaos/`: the chaos suite — customers ordering through the gateway while
//!   processes are SIGKILLed and the broker is SIGSTOPped, then the invariants checked
//!   in the databases and on the dead-letter topic. `cargo xtask test` runs its short
//!   form; `cargo xtask chaos --orders N --seconds S` the same test, longer (see
//!   `tests/chaos/main.rs`).

mod logs;
pub mod stack;
