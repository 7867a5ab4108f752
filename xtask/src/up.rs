//! `cargo xtask up`: the whole stack on this machine without Docker, and a summary of where
//! everything is. Running it again starts only what is not running.

use std::{
    process::{Child, Command},
    thread,
    time::{Duration, Instant},
};

use anyhow::{bail, Result};

use crate::{
    broker::{self, Lifetime},
    exec, http, postgres,
    processes::{self, Group},
    stack::{self, Process, PROCESSES},
    workspace,
};

/// How long every process together gets to answer 200 on `/ready`.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Prepares Postgres, the broker and the databases, builds (release builds when
/// `release`), starts and waits for readiness.
pub fn run(release: bool) -> Result<()> {
    postgres::ensure_running()?;
    let broker = broker::ensure_running(Lifetime::UntilDown)?;
    broker.create_topics()?;
    for database in stack::databases() {
        postgres::ensure_database(database)?;
    }
    let mut build = exec::cargo();
    build.args(["build", "--workspace", "--bins"]);
    if release {
        build.arg("--release");
    }
    exec::step("build", &mut build)?;

    let profile = if release { "release" } else { "debug" };
    let mut starting = Vec::new();
    for process in PROCESSES {
        starting.push(start(process, profile)?);
    }
    wait_until_ready(starting)?;
    print_summary();
    Ok(())
}

/// A process on its way to ready; `child` is `None` when an earlier `up` started it.
struct Starting {
    process: &'static Process,
    child: Option<Child>,
    last_answer: String,
}

enum Check {
    Ready,
    Waiting,
    Died(String),
}

/// Starts `process` from `target/<profile>/`, unless an earlier `up` left it running.
fn start(process: &'static Process, profile: &str) -> Result<Starting> {
    let mut starting = Starting {
        process,
        child: None,
        last_answer: "no answer yet".into(),
    };
    if let Some(pid) = processes::running(process.name) {
        say!("{} already running (pid {pid})", process.name);
        return Ok(starting);
    }
    let bin = workspace::target_dir().join(profile).join(process.name);
    let mut command = Command::new(&bin);
    command.envs(process.env());
    let child = processes::spawn(process.name, &mut command, Group::Own)?;
    say!(
        "started {} (pid {}) on port {}",
        process.name,
        child.id(),
        process.port
    );
    starting.child = Some(child);
    Ok(starting)
}

impl Starting {
    fn check(&mut self) -> Result<Check> {
        let name = self.process.name;
        if let Some(child) = &mut self.child {
            if let Some(status) = child.try_wait()? {
                processes::forget(name)?;
                return Ok(Check::Died(format!("exited ({status})")));
            }
        } else if processes::running(name).is_none() {
            return Ok(Check::Died("is no longer running".into()));
        }
        match http::get_status(self.process.port, "/ready") {
            Ok(200) => Ok(Check::Ready),
            Ok(status) => {
                self.last_answer = format!("last /ready answer: {status}");
                Ok(Check::Waiting)
            }
            Err(error) => {
                self.last_answer = format!("last /ready attempt: {error}");
                Ok(Check::Waiting)
            }
        }
    }
}

/// Polls every process until all are ready, reporting every one that died or timed out.
fn wait_until_ready(mut pending: Vec<Starting>) -> Result<()> {
    say!(
        "waiting up to {}s for /ready of {} processes",
        READY_TIMEOUT.as_secs(),
        pending.len()
    );
    let deadline = Instant::now() + READY_TIMEOUT;
    let mut failed: Vec<(&'static str, String)> = Vec::new();
    loop {
        let mut still_pending = Vec::new();
        for mut starting in pending {
            match starting.check()? {
                Check::Ready => say!("{} ready", starting.process.name),
                Check::Died(why) => failed.push((starting.process.name, why)),
                Check::Waiting => still_pending.push(starting),
            }
        }
        pending = still_pending;
        if pending.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            for starting in pending {
                let why = format!(
                    "not ready after {}s ({})",
                    READY_TIMEOUT.as_secs(),
                    starting.last_answer
                );
                failed.push((starting.process.name, why));
            }
            break;
        }
        thread::sleep(Duration::from_millis(250));
    }
    if failed.is_empty() {
        return Ok(());
    }
    for (name, why) in &failed {
        eprintln!("xtask: {name} {why}\n{}", processes::log_tail(name, 20));
    }
    let names: Vec<&str> = failed.iter().map(|(name, _)| *name).collect();
    bail!(
        "not up: {}. Whatever did start keeps running; `cargo xtask down` stops it",
        names.join(", ")
    )
}

fn print_summary() {
    let log = |name: &str| {
        workspace::relative(&workspace::log_file(name))
            .display()
            .to_string()
    };
    say!("Comanda is up");
    println!();
    println!("  {:<16} {:<48} log", "process", "address");
    for process in PROCESSES.iter().rev() {
        let address = format!("http://127.0.0.1:{}", process.port);
        println!("  {:<16} {address:<48} {}", process.name, log(process.name));
    }
    let broker_log = if processes::running(broker::NAME).is_some() {
        log(broker::NAME)
    } else {
        "(not started by xtask)".into()
    };
    println!(
        "  {:<16} {:<48} {broker_log}",
        "kafka (tansu)",
        broker::ADDRESS
    );
    println!(
        "  {:<16} {:<48}",
        "postgres",
        postgres::database_url("<comanda_auth|_user|_order|_product|_payment>")
    );
    println!();
    println!("  health:      curl http://127.0.0.1:8080/health   (each process: /health /ready /metrics)");
    println!(
        "  watch topic: kcat -b {} -C -t order.created.pending -f '%k %h %s\\n'",
        broker::ADDRESS
    );
    // Debian 12's kcat (librdkafka 2.0) fails the ApiVersions handshake with tansu 0.6;
    // tansu's own consumer always works.
    println!(
        "       (tansu: tansu cat consume order.created.pending --broker tcp://{} --partition 0)",
        broker::ADDRESS
    );
    println!(
        "  all topics:  tansu topic list --broker tcp://{}",
        broker::ADDRESS
    );
    match dev_admin() {
        Some((email, password)) => {
            println!("  admin:       {email} / {password}   (dev settings of auth-service)")
        }
        None => println!("  admin:       see [admin] in auth-service/config/default.toml"),
    }
    println!("  demo:        cargo xtask demo   (register, order, pay, decline, reject, cancel + refund, timelines)");
    println!("  stop:        cargo xtask down");
}

/// The bootstrapped admin of auth-service's dev defaults, read from the file itself so
/// the summary cannot drift from what the service really creates.
pub(crate) fn dev_admin() -> Option<(String, String)> {
    let defaults =
        std::fs::read_to_string(workspace::root().join("auth-service/config/default.toml")).ok()?;
    let admin = defaults
        .split("[admin]")
        .nth(1)?
        .split("\n[")
        .next()?
        .to_owned();
    let value = |key: &str| {
        admin.lines().find_map(|line| {
            let (name, value) = line.split_once('=')?;
            (name.trim() == key).then(|| value.trim().trim_matches('"').to_owned())
        })
    };
    Some((value("email")?, value("password")?))
}
