//! Starts the whole system as real processes: the five services, the relay, the
//! gateway and the sandbox payment provider, each built from this workspace, on free ports, with fresh databases
//! and one test's topic prefix. A process can be killed and started again on the
//! same port with the same environment, as an operator's supervisor would.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use comanda_testkit::ports::Port;
use comanda_testkit::TestEnv;
use nix::sys::signal::Signal;
use nix::unistd::Pid;

use crate::logs::Logs;

/// The five services, each with its own database.
pub const SERVICES: [&str; 5] = [
    "auth-service",
    "user-service",
    "order-service",
    "product-service",
    "payment-service",
];

/// Every binary a stack runs (each is also its package's name), in start order: the
/// provider first (it needs nothing), the gateway after everything it fronts.
pub const BINARIES: [&str; 8] = [
    "sandbox-provider",
    "auth-service",
    "user-service",
    "order-service",
    "product-service",
    "payment-service",
    "outbox-relay",
    "gateway",
];

/// How long a process gets to answer `/ready` after it starts.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// How a stack is started besides its defaults.
#[derive(Debug, Default)]
pub struct Options {
    /// Extra environment, as `(process, variable, value)`: e.g. a gateway rate limit.
    pub env: Vec<(String, String, String)>,
    /// Where each process appends its stdout and stderr (`<dir>/<process>.log`), kept;
    /// none: the test's output when `TEST_LOG` is set, else a scratch directory. Either
    /// way a test that fails prints the end of each log.
    pub log_dir: Option<PathBuf>,
    /// Where the binaries are (e.g. `target/release` for a benchmark); none:
    /// `target/debug`.
    pub bin_dir: Option<PathBuf>,
    /// The consumers' fetch wait in milliseconds (`kafka.fetch_wait_max_ms`); none:
    /// tansu's [`comanda_kit::settings::TANSU_FETCH_WAIT_MS`].
    pub fetch_wait_ms: Option<u64>,
}

/// A running system. Every process is killed when it drops.
pub struct Stack {
    /// The gateway's base URL, e.g. `http://127.0.0.1:40123`.
    pub gateway: String,
    /// The sandbox payment provider's base URL (its API and checkout pages).
    pub provider: String,
    processes: Vec<Process>,
    logs: Logs,
    bin_dir: PathBuf,
    env: TestEnv,
}

/// One process of the stack and what it takes to start it again.
struct Process {
    name: &'static str,
    /// Claimed for the stack's lifetime, so a restart gets it back ([`Port`]).
    port: Port,
    vars: Vec<(String, String)>,
    database: Option<String>,
    child: Option<Child>,
}

impl Stack {
    /// The whole system on the shared test broker, with default settings.
    pub async fn start() -> Self {
        Self::start_with(TestEnv::new().await, Options::default()).await
    }

    /// The whole system on `env`'s broker and topic prefix, with `options`.
    pub async fn start_with(env: TestEnv, options: Options) -> Self {
        let bin_dir = options
            .bin_dir
            .unwrap_or_else(|| target_dir().join("debug"));
        check_binaries(&bin_dir);
        let mut processes = Vec::new();
        for name in SERVICES {
            let database = comanda_kit::testing::fresh_database(&format!("e2e_{name}")).await;
            processes.push(Process::new(name, Some(database)));
        }
        processes.push(Process::new("outbox-relay", None));
        processes.push(Process::new("gateway", None));
        processes.push(Process::new("sandbox-provider", None));
        let databases: Vec<(&str, String)> = processes
            .iter()
            .filter_map(|p| Some((p.name, p.database.clone()?)))
            .collect();
        let ports: Vec<(&str, u16)> = processes
            .iter()
            .map(|p| (p.name, p.port.number()))
            .collect();
        let port_of = |name: &str| {
            let port = ports.iter().find(|(n, _)| *n == name).map(|(_, p)| *p);
            port.unwrap_or_else(|| panic!("no process {name}"))
        };
        let fetch_wait_ms = options
            .fetch_wait_ms
            .unwrap_or(comanda_kit::settings::TANSU_FETCH_WAIT_MS);
        let gateway = format!("http://127.0.0.1:{}", port_of("gateway"));
        let provider = format!("http://127.0.0.1:{}", port_of("sandbox-provider"));
        for process in &mut processes {
            process.vars = vec![
                ("COMANDA__ENV".into(), "dev".into()),
                ("COMANDA__HTTP__HOST".into(), "127.0.0.1".into()),
                (
                    "COMANDA__HTTP__PORT".into(),
                    process.port.number().to_string(),
                ),
                ("COMANDA__KAFKA__BROKERS".into(), env.brokers.clone()),
                ("COMANDA__KAFKA__TOPIC_PREFIX".into(), env.prefix.clone()),
                // One instance per service on tansu: no group protocol (README, "The broker").
                ("COMANDA__KAFKA__ASSIGNMENT".into(), "all".into()),
                // tansu holds every fetch for the whole wait (README, "The broker").
                (
                    "COMANDA__KAFKA__FETCH_WAIT_MAX_MS".into(),
                    fetch_wait_ms.to_string(),
                ),
            ];
            if let Some(database) = &process.database {
                let var = ("COMANDA__DATABASE__URL".into(), database.clone());
                process.vars.push(var);
            }
            match process.name {
                "outbox-relay" => {
                    for (service, database) in &databases {
                        let source = short_name(service);
                        let var = format!("COMANDA__SOURCES__{source}__URL");
                        process.vars.push((var, database.clone()));
                    }
                    let var = ("COMANDA__RELAY__POLL_INTERVAL_MS".into(), "200".into());
                    process.vars.push(var);
                }
                "payment-service" => {
                    let var = ("COMANDA__PROVIDER__BASE_URL".into(), provider.clone());
                    process.vars.push(var);
                }
                "sandbox-provider" => {
                    // Through the gateway, as a real provider would call in.
                    let url = format!("{gateway}/api/v1/payments/webhooks/sandbox");
                    process.vars.push(("COMANDA__WEBHOOK__URL".into(), url));
                    let var = ("COMANDA__PUBLIC_URL".into(), provider.clone());
                    process.vars.push(var);
                }
                "gateway" => {
                    for (service, port) in &ports[..SERVICES.len()] {
                        let upstream = short_name(service);
                        let var = format!("COMANDA__UPSTREAMS__{upstream}__URLS");
                        process.vars.push((var, format!("http://127.0.0.1:{port}")));
                    }
                }
                _ => {}
            }
            for (target, var, value) in &options.env {
                if target == process.name {
                    process.vars.push((var.clone(), value.clone()));
                }
            }
        }
        let mut stack = Self {
            gateway,
            provider,
            processes,
            logs: Logs::new(options.log_dir),
            bin_dir,
            env,
        };
        for name in BINARIES {
            if let Err(error) = stack.launch(name).await {
                panic!("{error}");
            }
        }
        stack
    }

    /// The test environment: broker, topic prefix.
    pub fn env(&self) -> &TestEnv {
        &self.env
    }

    /// The database URL of service `name` (e.g. `order-service`).
    pub fn database(&self, name: &str) -> &str {
        self.process(name)
            .database
            .as_deref()
            .unwrap_or_else(|| panic!("{name} has no database"))
    }

    /// The process id of `name`, while it runs.
    pub fn pid(&self, name: &str) -> Option<u32> {
        self.process(name).child.as_ref().map(Child::id)
    }

    /// SIGKILLs `name` and reaps it: no shutdown hook runs, as on a crash.
    pub fn kill(&mut self, name: &str) {
        if let Some(mut child) = self.process_mut(name).child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGSTOPs `name`: it keeps its sockets and state but answers nothing, as a
    /// process that hangs (or a host that stalls) would.
    pub fn pause(&self, name: &str) {
        self.signal(name, Signal::SIGSTOP);
    }

    /// SIGCONTs `name` after [`Stack::pause`].
    pub fn resume(&self, name: &str) {
        self.signal(name, Signal::SIGCONT);
    }

    fn signal(&self, name: &str, signal: Signal) {
        let pid = self
            .pid(name)
            .unwrap_or_else(|| panic!("{name} is not running"));
        let pid = Pid::from_raw(i32::try_from(pid).expect("a pid fits an i32"));
        nix::sys::signal::kill(pid, signal).unwrap_or_else(|e| panic!("{signal} {name}: {e}"));
    }

    /// Starts `name` (again) with the port and environment it had, and waits until
    /// its `/ready` answers 200. A start that fails (e.g. the port is not free yet)
    /// is tried again until [`READY_TIMEOUT`]; then the error says why.
    pub async fn launch(&mut self, name: &str) -> Result<(), String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("an HTTP client");
        let port = self.process(name).port.number();
        let url = format!("http://127.0.0.1:{port}/ready");
        loop {
            if self.process(name).child.is_none() {
                let child = self.spawn(name);
                self.process_mut(name).child = Some(child);
            }
            let ready = client.get(&url).send().await;
            let process = self.process_mut(name);
            let exited = process.child.as_mut().and_then(|c| c.try_wait().ok()?);
            // A 200 counts only while our child runs: it is the one on the port.
            if exited.is_none() && ready.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            if let Some(status) = exited {
                process.child = None;
                if Instant::now() >= deadline {
                    return Err(format!("{name} exited ({status}) and did not start again"));
                }
            } else if Instant::now() >= deadline {
                return Err(format!("{name} was not ready within {READY_TIMEOUT:?}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn spawn(&self, name: &str) -> Child {
        let process = self.process(name);
        let mut command = Command::new(self.bin_dir.join(name));
        command
            .envs(process.vars.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        let (stdout, stderr) = self.logs.stdio(name);
        command.stdout(stdout).stderr(stderr);
        command
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"))
    }

    fn process(&self, name: &str) -> &Process {
        self.processes
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("no process {name} in the stack"))
    }

    fn process_mut(&mut self, name: &str) -> &mut Process {
        self.processes
            .iter_mut()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("no process {name} in the stack"))
    }
}

impl Process {
    fn new(name: &'static str, database: Option<String>) -> Self {
        Self {
            name,
            port: Port::claim(),
            vars: Vec::new(),
            database,
            child: None,
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        for process in &mut self.processes {
            if let Some(mut child) = process.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        if std::thread::panicking() {
            self.logs.print_tails(&BINARIES);
        }
    }
}

/// `order-service` → `ORDER`: the name in `COMANDA__SOURCES__*` and `COMANDA__UPSTREAMS__*`.
fn short_name(service: &str) -> String {
    service.trim_end_matches("-service").to_uppercase()
}

/// Checks that the binaries exist. This crate never builds them: a cargo build
/// started from inside a running test suite can relink test binaries that the
/// runner is about to execute. `cargo nextest run --workspace` (what `cargo xtask
/// test` runs) builds every binary before any test starts, because each binary's
/// package has integration tests; run alone, build first:
/// `cargo build --bins && cargo nextest run -p e2e`.
fn check_binaries(bin_dir: &Path) {
    for name in BINARIES {
        let path = bin_dir.join(name);
        assert!(
            path.exists(),
            "{} is missing: run `cargo build --bins` (or the whole suite) first",
            path.display()
        );
    }
}

/// The target directory: `CARGO_TARGET_DIR`, else the workspace's `target/`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

fn workspace_root() -> PathBuf {
    let e2e = Path::new(env!("CARGO_MANIFEST_DIR"));
    e2e.parent().unwrap_or(e2e).to_path_buf()
}
