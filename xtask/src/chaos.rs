//! `cargo xtask chaos [--orders N] [--seconds S] [--fault-every F] [--seed X]`: the chaos suite
//! (`e2e/tests/chaos`) at the length asked for.
//!
//! `cargo xtask test` runs the short form with the rest of the suite; here it runs alone,
//! its parameters from the command line (defaults: the short form, 300 orders over 60 s). It runs under `cargo test`, not nextest,
//! because nextest stops a test after 5 minutes and a long run takes longer; and
//! `--nocapture`, so the faults and the report show as they happen.

use anyhow::Result;

use crate::broker::{self, Lifetime};
use crate::{exec, postgres, test};

/// Prepares Postgres and tansu like `cargo xtask test`, builds the binaries and runs
/// the suite with `orders` orders over `seconds` seconds, a fault every `fault_every`
/// seconds (schedule from `seed`).
pub fn run(orders: u64, seconds: u64, fault_every: u64, seed: Option<u64>) -> Result<()> {
    postgres::ensure_running()?;
    // The suite pauses a tansu of its own; this one gives it the binary (`TANSU_BIN`).
    let broker = broker::ensure_running(Lifetime::ThisRun)?;
    // Every binary of the workspace, as `up` builds them: the suite's stack runs them all
    // and never builds (a list here went stale when payments added two).
    exec::step(
        "build",
        exec::cargo().args(["build", "--locked", "--workspace", "--bins"]),
    )?;
    let mut command = exec::cargo();
    command.args([
        "test",
        "--locked",
        "-p",
        "e2e",
        "--test",
        "chaos",
        "--",
        "--nocapture",
    ]);
    test::harness_env(&mut command, &broker);
    command
        .env("CHAOS_ORDERS", orders.to_string())
        .env("CHAOS_SECONDS", seconds.to_string())
        .env("CHAOS_FAULT_EVERY", fault_every.to_string());
    if let Some(seed) = seed {
        command.env("CHAOS_SEED", seed.to_string());
    }
    exec::step("chaos", &mut command)
}
