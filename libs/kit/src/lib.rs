//! The service kit every Comanda service is built from.
//!
//! A service is settings, telemetry, an actix-web server with the same middleware and
//! operational endpoints everywhere, a Postgres pool with embedded migrations, and a
//! graceful shutdown. Writing that once keeps the services to their domain code and makes
//! every service answer errors, logs and probes the same way.
//!
//! # Layout
//! - [`auth`]: access-token claims, EdDSA signing and verification, the `AuthUser` extractor.
//! - [`settings`]: layered configuration (embedded defaults → `COMANDA_CONFIG` file →
//!   `COMANDA__*` environment) and the setting blocks services share.
//! - [`telemetry`]: JSON logs to stdout, optionally shipped to Loki.
//! - [`openapi`]: the `Problem` schema, the bearer scheme and `GET /openapi.json` every
//!   service's OpenAPI document shares.
//! - [`pagination`]: `?page=&size=` with a capped size, and the page response shape.
//! - [`prepared`]: statements diesel would never keep prepared (UPDATE, upserts,
//!   `sql_query`), prepared once per connection.
//! - [`problem`]: `application/problem+json` errors with a stable `code`, the error policy,
//!   and extractor configs that turn bad input into 4xx problems.
//! - [`db`]: the Postgres pool, migrations from several embedded sources, database creation.
//! - [`correlation`]: the `X-Correlation-Id` middleware and its extractor.
//! - [`request_id`]: the `X-Request-Id` middleware: one id per HTTP exchange, kept
//!   across the gateway hop.
//! - [`request_log`]: one span per request, a closing log line and HTTP metrics.
//! - [`health`]: `/health`, `/ready` (configurable dependency checks) and `/metrics`.
//! - [`http`]: binds the listener and builds the actix server with all of the above.
//! - [`service`]: the start-up every database-backed service shares.
//! - [`stalls`]: the board where background workers report that they are stuck; `/ready`
//!   reads it.
//! - [`shutdown`]: a future that completes on SIGTERM or SIGINT.
//! - [`text`]: client text without control characters, parsed as it is deserialized.
//! - [`whole_number`]: JSON integers as JSON Schema counts them (`2.0` is 2).
//! - [`workers`]: background tasks (consumers, relays) that stop with the server.
//! - `testing` (feature `testing`): fresh databases and a spawned test app for integration
//!   tests.

pub mod auth;
pub mod correlation;
pub mod db;
pub mod health;
pub mod http;
pub mod openapi;
pub mod pagination;
pub mod prepared;
pub mod problem;
pub mod request_id;
pub mod request_log;
pub mod service;
pub mod settings;
pub mod shutdown;
pub mod stalls;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod text;
pub mod whole_number;
pub mod workers;
