//! End-to-end tests of Comanda: see `tests/e2e/`. Every process runs as its real
//! binary (services, relay, gateway) against real Postgres and the real broker,
//! and the tests talk to the gateway only, as a client would.
