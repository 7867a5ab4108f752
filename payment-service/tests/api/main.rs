//! payment-service API tests: one binary; each test runs payment-service on a fresh
//! database, its own topic prefix and an in-process relay, with the sandbox provider
//! in-process as its real HTTP peer.

mod cancelling;
mod fuzz;
mod health;
mod helpers;
mod openapi;
mod paying;
mod provider;
mod proxy;
mod reading;
mod webhooks;
