//! End-to-end tests of Comanda: see `tests/e2e/`. Every process runs as its real
//! binary (services, relay, gateway) against real Postgres and the real broker,
//! and the tests talk to the gateway only, as a client would.
//!
//! The tests run the binaries in `target/debug/` and never build them (a build
//! started inside a running suite can relink the test binaries it is running).
//! `cargo xtask test` builds them first; alone: `cargo build --bins && cargo nextest
//! run -p e2e`.
