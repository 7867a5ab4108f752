//! product-service API tests: one binary, a fresh database, topic prefix and server per
//! test.

mod bad_input;
mod catalog;
mod fuzz;
mod health;
mod helpers;
mod openapi;
mod reservations;
mod seed;
mod sick_database;
mod stock;
