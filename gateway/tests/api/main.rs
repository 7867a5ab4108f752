//! gateway API tests: one binary, a server per test.

mod health;
mod helpers;
