//! user-service API tests: one binary, a fresh database, server and topic prefix per test.

mod creating_user;
mod fuzz;
mod health;
mod helpers;
mod openapi;
mod sick_database;
mod users;
