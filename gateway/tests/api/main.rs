//! gateway API tests: one binary, a gateway per test, in front of real HTTP upstreams.

mod docs;
mod dropped_connection;
mod edge_auth;
mod failover;
mod forwarding;
mod fuzz;
mod health;
mod helpers;
mod limits;
mod upstream;
