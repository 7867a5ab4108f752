//! `cargo xtask test`: the one test command. CI runs exactly this, so a green run on a
//! laptop means a green CI run.

use std::process::{Command, Stdio};

use anyhow::{bail, Result};

use crate::{
    broker::{self, Broker, Lifetime},
    exec, postgres, schemathesis,
};

/// Prepares Postgres and the broker, then runs fmt, clippy, the tests and schemathesis
/// over the whole API ([`schemathesis`]; `cargo xtask schemathesis` runs it alone). It
/// ends at 0 failures as a user and as an admin, so a failure it reports is new.
///
/// fmt and clippy failures do not stop the run: one CI run reports every failing step.
pub fn run(extra_args: &[String]) -> Result<()> {
    postgres::ensure_running()?;
    postgres::drop_test_databases()?;
    // From here on, a broker this run started is stopped when `broker` drops: on success,
    // on failure and on early return alike.
    let broker = broker::ensure_running(Lifetime::ThisRun)?;
    broker.create_topics()?;
    ensure_compose_tool();

    let steps: [(&str, &dyn Fn() -> Result<()>); 4] = [
        ("fmt", &fmt),
        ("clippy", &clippy),
        ("tests", &|| tests(&broker, extra_args)),
        // After the tests, which have built every binary; on the same broker.
        ("schemathesis", &schemathesis::run),
    ];
    let mut failed = Vec::new();
    for (name, step) in steps {
        if let Err(error) = step() {
            eprintln!("xtask: {error:#}");
            failed.push(name);
        }
    }
    if !failed.is_empty() {
        bail!("failed steps: {}", failed.join(", "));
    }
    say!("all steps passed: fmt, clippy, tests, schemathesis");
    Ok(())
}

/// `cargo xtask schemathesis`: the schemathesis step alone, on a broker and Postgres made
/// sure of as for the whole run.
pub fn schemathesis_only() -> Result<()> {
    postgres::ensure_running()?;
    let broker = broker::ensure_running(Lifetime::ThisRun)?;
    broker.create_topics()?;
    schemathesis::run()
}

/// Sets the variables integration tests read to reach Postgres and the broker.
pub fn harness_env(command: &mut Command, broker: &Broker) {
    command
        .env("DATABASE_ADMIN_URL", postgres::ADMIN_URL)
        .env("KAFKA_BROKERS", broker::ADDRESS)
        .env("TANSU_BIN", &broker.bin);
}

/// Installs Debian's `docker-compose` (the Compose tool only, no Docker engine) when it is
/// missing and we are root, as on CI: `xtask/tests/stack` validates docker-compose.yml with it.
/// Otherwise that test fails and says how to install it; nothing else needs the tool.
fn ensure_compose_tool() {
    if exec::which("docker-compose").is_some() {
        return;
    }
    let is_root = exec::output(Command::new("id").arg("-u")).is_ok_and(|uid| uid.trim() == "0");
    if !is_root || exec::which("apt-get").is_none() {
        say!(
            "docker-compose: not installed; the compose file test will fail \
             (`sudo apt-get install --no-install-recommends docker-compose`)"
        );
        return;
    }
    // --no-install-recommends: the package recommends docker.io, an engine we neither need
    // nor want on a development machine.
    let installed = exec::step(
        "docker-compose",
        Command::new("apt-get").args([
            "install",
            "-y",
            "--no-install-recommends",
            "docker-compose",
        ]),
    )
    .or_else(|_| {
        exec::step("apt-get update", Command::new("apt-get").arg("update"))?;
        exec::step(
            "docker-compose",
            Command::new("apt-get").args([
                "install",
                "-y",
                "--no-install-recommends",
                "docker-compose",
            ]),
        )
    });
    if let Err(error) = installed {
        say!("docker-compose: could not install it ({error:#}); the compose file test will fail");
    }
}

fn fmt() -> Result<()> {
    exec::step("fmt", exec::cargo().args(["fmt", "--all", "--check"]))
}

fn clippy() -> Result<()> {
    exec::step(
        "clippy",
        exec::cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ]),
    )
}

fn tests(broker: &Broker, extra_args: &[String]) -> Result<()> {
    let mut command = exec::cargo();
    if has_nextest() {
        command.args([
            "nextest",
            "run",
            "--workspace",
            "--locked",
            "--no-fail-fast",
        ]);
    } else {
        say!("tests: cargo-nextest not found (`cargo install cargo-nextest --locked`); using cargo test");
        command.args(["test", "--workspace", "--locked", "--no-fail-fast"]);
    }
    command.args(extra_args);
    harness_env(&mut command, broker);
    exec::step("tests", &mut command)
}

fn has_nextest() -> bool {
    exec::cargo()
        .args(["nextest", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}
