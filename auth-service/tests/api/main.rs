//! auth-service API tests: one binary, a fresh database and server per test.

mod health;
mod helpers;
