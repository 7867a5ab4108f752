//! `cargo xtask bench <which>`: benchmarks against local Postgres and the broker.

use anyhow::Result;

use crate::{
    broker::{self, Lifetime},
    exec, postgres, test, workspace,
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

/// Gateway overhead, direct vs through the gateway, in one run: against a trivial
/// upstream and against a real product-service (which needs Postgres and the
/// broker): `cargo bench -p gateway --bench gateway`. The release binaries of the
/// gateway and product-service are built first for the deployment-shape passes.
pub fn gateway() -> Result<()> {
    postgres::ensure_running()?;
    let broker = broker::ensure_running(Lifetime::ThisRun)?;
    broker.create_topics()?;
    exec::step(
        "build release binaries",
        exec::cargo().args([
            "build",
            "--release",
            "-p",
            "gateway",
            "-p",
            "product-service",
        ]),
    )?;
    let mut command = exec::cargo();
    command.args(["bench", "-p", "gateway", "--bench", "gateway"]);
    command.env("BENCH_BIN_DIR", workspace::target_dir().join("release"));
    test::harness_env(&mut command, &broker);
    exec::step("bench gateway", &mut command)
}

/// A consumer's fetches against the local broker, bench `bench` of comanda-outbox
/// (`fetch_wait`: what the fetch wait costs and buys; `fetch_history`: whether a
/// partition's history makes fetching dearer), with the broker's pid so its CPU is
/// measured too.
pub fn fetch(bench: &str) -> Result<()> {
    let broker = broker::ensure_running(Lifetime::ThisRun)?;
    let mut command = exec::cargo();
    command.args(["bench", "-p", "comanda-outbox", "--bench", bench]);
    if let Some(pid) = broker.pid() {
        command.env("BENCH_BROKER_PID", pid.to_string());
    }
    test::harness_env(&mut command, &broker);
    exec::step(&format!("bench {bench}"), &mut command)
}

/// Every process a stack runs, built in release for the e2e bench.
const STACK_PACKAGES: [&str; 8] = [
    "sandbox-provider",
    "auth-service",
    "user-service",
    "order-service",
    "product-service",
    "payment-service",
    "outbox-relay",
    "gateway",
];

/// The whole saga against the database's ceiling: `cargo bench -p e2e --bench saga`,
/// on release binaries of every process (built first).
pub fn e2e(extra_args: &[String]) -> Result<()> {
    postgres::ensure_running()?;
    // The bench runs a tansu of its own; this one is made sure of for `TANSU_BIN`.
    let broker = broker::ensure_running(Lifetime::ThisRun)?;
    let mut build = exec::cargo();
    build.args(["build", "--release"]);
    for package in STACK_PACKAGES {
        build.args(["-p", package]);
    }
    exec::step("build release binaries", &mut build)?;
    let mut command = exec::cargo();
    command.args(["bench", "-p", "e2e", "--bench", "saga"]);
    if !extra_args.is_empty() {
        command.arg("--").args(extra_args);
    }
    command.env("BENCH_BIN_DIR", workspace::target_dir().join("release"));
    test::harness_env(&mut command, &broker);
    exec::step("bench e2e", &mut command)
}
