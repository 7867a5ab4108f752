//! Developer commands for Comanda: `cargo xtask test | up | down | bench | dlq | chaos`.
//!
//! `cargo xtask test` is THE test command: CI runs exactly it (see `.ci/run`). It makes sure a
//! local Postgres and a Kafka-protocol broker ([tansu]) are running, creates the topics, then
//! runs fmt, clippy and the whole test suite. `cargo xtask up` starts every Comanda process
//! locally without Docker; `cargo xtask down` stops them again.
//!
//! Everything external is reached by shelling out (`pg_isready`, `psql`, `tansu`, `cargo`,
//! `kill`), except the dead-letter topic: `cargo xtask dlq` reads and replays it with
//! `comanda_outbox::dead_letters`, the code the relay's DLQ gauges and the tests use, so
//! this crate depends on `comanda-outbox` (and librdkafka, built for the workspace anyway).
//!
//! [tansu]: https://github.com/tansu-io/tansu
//!
//! # Layout
//! - `cli`: the command line (clap derive) and dispatch to one module per command.
//! - `test`, `up`, `down`, `bench`: one file per command.
//! - `schemathesis`: `test`'s last step, the outside tester over the whole API through the
//!   gateway: installs schemathesis, starts its own stack, runs it as a user and an admin.
//! - `chaos`: builds the binaries and runs the chaos suite (`e2e/tests/chaos`) at a given length.
//! - `dlq`: `dlq list | replay`, the command line over `comanda_outbox::dead_letters`.
//! - `postgres`: make sure a local Postgres answers; create databases.
//! - `broker`: find (or install) and start the tansu broker; create topics.
//! - `topics`: the list of Kafka topics the broker must have.
//! - `stack`: the Comanda processes `up` starts: names, ports, databases, environment.
//! - `processes`: detached processes with log and pid files under `.comanda/`; stopping them.
//! - `exec`: running a child command as a named step, with a progress line.
//! - `http`: a tiny HTTP/1.1 readiness probe over a raw TCP stream.
//! - `workspace`: paths of the workspace root and of `.comanda/`.

/// Prints a progress line prefixed with `xtask:`, so it stands out between child output.
macro_rules! say {
    ($($arg:tt)*) => {
        println!("xtask: {}", format_args!($($arg)*))
    };
}

mod bench;
mod broker;
mod chaos;
mod cli;
mod demo;
mod dlq;
mod down;
mod exec;
mod http;
mod postgres;
mod processes;
mod schemathesis;
mod stack;
mod test;
mod up;
mod workspace;

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = <cli::Cli as clap::Parser>::parse();
    match cli.command.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
