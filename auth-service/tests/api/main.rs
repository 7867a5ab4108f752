//! auth-service API tests: one binary; each test gets fresh databases, servers and a
//! topic prefix. Flow tests run user-service in-process and relay both outboxes
//! through the real broker.

mod accounts;
mod deadlines;
mod fail_closed;
mod flow;
mod fuzz;
mod hashing;
mod health;
mod helpers;
mod openapi;
mod register;
mod sessions;
