//! Integration tests of the service kit: one binary, one file per concern.

mod access_log;
mod db;
mod health;
mod helpers;
mod http;
mod loki;
mod prepared;
mod settings;
