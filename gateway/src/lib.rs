//! gateway: the single entry of Comanda on :8080, in front of the four services.
//!
//! It routes `/api/v1/{auth,users,orders,products}/**` (and the token key set) by
//! prefix to a healthy instance of the owning service, round robin; refuses protected
//! requests without a valid access token before any service sees them; limits login
//! and register attempts per client (an IPv4 address, an IPv6 /64); and carries
//! request and correlation ids (the client's own when it sent acceptable ones) and
//! the client's address forward. Every decision is taken on the normalized path
//! (percent-encoded unreserved characters decoded), and that path is the one
//! forwarded. Bodies stream through; nothing is buffered whole. It owns no database.
//! At `/api/docs` it serves Swagger UI over one OpenAPI document merged from every
//! service's.
//!
//! # Layout
//! - [`settings`]: typed settings and their compiled-in defaults (`config/default.toml`).
//! - [`startup`]: builds the [`startup::Application`]: server plus health checker.
//! - [`routes`]: the docs routes, the forwarded routes and the edge checks before
//!   forwarding.
//! - [`routing`]: which service owns a path; which requests are public or rate limited.
//! - [`edge_auth`]: the access-token check at the edge.
//! - [`rate_limit`]: per-IP and per-user GCRA limits.
//! - [`client_address`]: the client's address, behind trusted load balancers too.
//! - [`cors`]: the CORS middleware from settings.
//! - [`upstreams`]: instances, their health, round robin.
//! - [`docs`]: fetching, merging and caching the services' OpenAPI documents.
//! - [`health_check`]: the background checker of every instance's `/health`.
//! - [`proxy`]: forwarding: headers, streamed bodies, retries, the response back.
//! - [`state`]: what handlers share.
//! - [`error`]: the gateway's own problem answers (503, 504, 413, 429, …).

pub mod client_address;
pub mod cors;
pub mod docs;
pub mod edge_auth;
pub mod error;
pub mod health_check;
pub mod proxy;
pub mod rate_limit;
pub mod routes;
pub mod routing;
pub mod settings;
pub mod startup;
pub mod state;
pub mod upstreams;
