//! `cargo xtask bench <which>`: benchmarks against local Postgres and the broker.

use anyhow::{bail, Result};

use crate::{
    broker::{self, Lifetime},
    exec, postgres, test,
};

/// Outbox relay throughput: `cargo bench -p outbox-relay --bench relay`.
pub fn relay(extra_args: &[String]) -> Result<()> {
    postgres::ensure_running()?;
    // Stopped on drop if this run started it, as in `test`.
    let broker = broker::ensure_running(Lifetime::ThisRun)?;
    broker.create_topics()?;
    let mut command = exec::cargo();
    command.args(["bench", "-p", "outbox-relay", "--bench", "relay"]);
    if !extra_args.is_empty() {
        command.arg("--").args(extra_args);
    }
    test::harness_env(&mut command, &broker);
    exec::step("bench relay", &mut command)
}

/// Gateway load test: not written yet.
pub fn gateway() -> Result<()> {
    bail!("bench gateway: not implemented yet (issue #5)")
}
