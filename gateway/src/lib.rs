//! gateway: the single entry of Comanda on :8080, in front of the four services.
//!
//! A skeleton so far: it serves the kit's `/health`, `/ready` and `/metrics`, with the
//! kit's correlation ids, request logs and problem responses. It owns no database.
//!
//! # Layout
//! - [`settings`]: typed settings and their compiled-in defaults (`config/default.toml`).
//! - [`startup`]: binds the HTTP server, ready to run until shutdown.
//! - [`routes`]: the gateway's own routes (none yet besides the kit's).

pub mod routes;
pub mod settings;
pub mod startup;
