//! The Kafka-protocol broker: [tansu](https://github.com/tansu-io/tansu) with in-memory
//! storage on 127.0.0.1:9092. It is a single binary, so no JVM or Docker is needed.

use std::{
    env,
    net::SocketAddr,
    path::PathBuf,
    process::{Child, Command},
    thread,
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};

use comanda_outbox::topics;

use crate::{
    exec, http,
    processes::{self, Group},
};

/// `host:port` clients connect to.
pub const ADDRESS: &str = "127.0.0.1:9092";
/// The same address as the URL tansu expects.
const URL: &str = "tcp://127.0.0.1:9092";
/// Name of the log and pid files (and of the binary).
pub const NAME: &str = "tansu";
/// The tansu release xtask installs; its CLI flags are what this file passes.
const VERSION: &str = "0.6.0";
/// How long tansu gets to accept connections after it starts.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a broker this run starts should live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifetime {
    /// Stopped when the [`Broker`] is dropped, whether the run succeeded or not (`test`).
    ThisRun,
    /// Left running for `cargo xtask down` to stop (`up`).
    UntilDown,
}

/// A broker listening on [`ADDRESS`].
#[derive(Debug)]
pub struct Broker {
    /// The tansu binary; tests get it as `TANSU_BIN` to start brokers of their own.
    pub bin: PathBuf,
    /// The broker process when this run started it and must stop it on drop.
    owned: Option<Child>,
}

/// Finds (installing if needed) and starts tansu unless something already listens on
/// [`ADDRESS`]; a broker someone else started is used as is and never stopped.
pub fn ensure_running(lifetime: Lifetime) -> Result<Broker> {
    let bin = find_or_install()?;
    let address: SocketAddr = ADDRESS.parse().context("broker address")?;
    if http::is_listening(address) {
        say!("broker: already listening on {ADDRESS}; using it");
        return Ok(Broker { bin, owned: None });
    }
    say!(
        "broker: starting {} on {ADDRESS} (in-memory storage)",
        bin.display()
    );
    let group = match lifetime {
        Lifetime::ThisRun => Group::Ours,
        Lifetime::UntilDown => Group::Own,
    };
    let mut command = Command::new(&bin);
    command.args([
        "broker",
        "--listener-url",
        URL,
        "--advertised-listener-url",
        URL,
        "--storage-engine",
        "memory://tansu/",
    ]);
    let mut child = processes::spawn(NAME, &mut command, group)?;
    let deadline = Instant::now() + START_TIMEOUT;
    while !http::is_listening(address) {
        if let Some(status) = child.try_wait()? {
            processes::forget(NAME)?;
            bail!(
                "broker: tansu exited ({status}) before listening on {ADDRESS}\n{}",
                processes::log_tail(NAME, 30)
            );
        }
        if Instant::now() >= deadline {
            processes::stop(NAME)?;
            bail!(
                "broker: tansu did not listen on {ADDRESS} within {}s\n{}",
                START_TIMEOUT.as_secs(),
                processes::log_tail(NAME, 30)
            );
        }
        thread::sleep(Duration::from_millis(200));
    }
    say!("broker: listening on {ADDRESS} (pid {})", child.id());
    let owned = (lifetime == Lifetime::ThisRun).then_some(child);
    Ok(Broker { bin, owned })
}

impl Broker {
    /// The broker's process id: the one this run started, else a process named
    /// [`NAME`] found in `/proc` (a broker started by `up` or by hand).
    pub fn pid(&self) -> Option<u32> {
        if let Some(child) = &self.owned {
            return Some(child.id());
        }
        std::fs::read_dir("/proc")
            .ok()?
            .flatten()
            .find_map(|entry| {
                let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
                let comm = std::fs::read_to_string(entry.path().join("comm")).ok()?;
                (comm.trim() == NAME).then_some(pid)
            })
    }

    /// Creates every topic in [`topics::ALL`] that does not exist yet.
    pub fn create_topics(&self) -> Result<()> {
        // `tansu topic list` prints the Kafka metadata response as JSON.
        let existing =
            exec::output(Command::new(&self.bin).args(["topic", "list", "--broker", URL]))
                .context("broker: could not list topics")?;
        let partitions = topics::PARTITIONS.to_string();
        for topic in topics::ALL {
            if existing.contains(&format!("\"name\":\"{topic}\"")) {
                say!("broker: topic {topic} exists");
                continue;
            }
            let output = Command::new(&self.bin)
                .args(["topic", "create", topic, "--broker", URL])
                .args(["--partitions", &partitions])
                .output()
                .with_context(|| format!("could not run {} topic create", self.bin.display()))?;
            let errors = String::from_utf8_lossy(&output.stderr);
            if output.status.success() {
                say!("broker: topic {topic} created ({partitions} partitions)");
            } else if errors.contains("already exists") {
                // A Comanda process ensured it in the meantime.
                say!("broker: topic {topic} exists");
            } else {
                bail!(
                    "broker: could not create topic {topic} ({}): {}",
                    output.status,
                    errors.trim()
                );
            }
        }
        Ok(())
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let Some(mut child) = self.owned.take() else {
            return;
        };
        say!(
            "broker: stopping the tansu this run started (pid {})",
            child.id()
        );
        if let Err(error) = processes::stop(NAME) {
            eprintln!("xtask: warning: {error:#}");
        }
        // Reap it; `stop` has already waited for it to exit.
        let _ = child.try_wait();
    }
}

/// `TANSU_BIN`, else `$CARGO_HOME/bin/tansu`, else `tansu` on `PATH`; else `cargo install` it.
fn find_or_install() -> Result<PathBuf> {
    if let Some(bin) = env::var_os("TANSU_BIN") {
        let bin = PathBuf::from(bin);
        if !exec::is_executable(&bin) {
            bail!("TANSU_BIN={} is not an executable file", bin.display());
        }
        return Ok(bin);
    }
    if let Some(bin) = find() {
        return Ok(bin);
    }
    say!("installing the tansu Kafka-protocol broker (one time, ~17 min on 2 cores)...");
    exec::step(
        "install tansu",
        exec::cargo().args([
            "install",
            "tansu",
            "--locked",
            "--version",
            VERSION,
            "--features",
            "dynostore",
        ]),
    )?;
    find().context("tansu was installed but is neither in $CARGO_HOME/bin nor on PATH")
}

fn find() -> Option<PathBuf> {
    let cargo_home = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")));
    cargo_home
        .map(|home| home.join("bin").join(NAME))
        .filter(|bin| exec::is_executable(bin))
        .or_else(|| exec::which(NAME))
}
