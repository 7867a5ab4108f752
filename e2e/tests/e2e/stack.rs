//! Starts the whole system as real processes: the four services, the relay and the
//! gateway, each built from this workspace, on free ports, with fresh databases
//! and this test's topic prefix.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use comanda_testkit::{eventually, TestEnv};

/// The binaries this test runs (each is also its package's name).
const BINARIES: [&str; 6] = [
    "auth-service",
    "user-service",
    "order-service",
    "product-service",
    "outbox-relay",
    "gateway",
];

/// A running system. Every process is killed when it drops.
pub struct Stack {
    /// The gateway's base URL, e.g. `http://127.0.0.1:40123`.
    pub gateway: String,
    children: Vec<(String, Child)>,
    _env: TestEnv,
}

struct Service {
    name: &'static str,
    port: u16,
    database: String,
}

impl Stack {
    pub async fn start() -> Self {
        check_binaries();
        let env = TestEnv::new().await;
        let mut services = Vec::new();
        for name in [
            "auth-service",
            "user-service",
            "order-service",
            "product-service",
        ] {
            let database = comanda_kit::testing::fresh_database(&format!("e2e_{name}")).await;
            services.push(Service {
                name,
                port: free_port(),
                database,
            });
        }
        let mut stack = Self {
            gateway: String::new(),
            children: Vec::new(),
            _env: env,
        };
        let common = |port: u16| {
            vec![
                ("COMANDA__ENV".to_owned(), "dev".to_owned()),
                ("COMANDA__HTTP__HOST".to_owned(), "127.0.0.1".to_owned()),
                ("COMANDA__HTTP__PORT".to_owned(), port.to_string()),
                (
                    "COMANDA__KAFKA__BROKERS".to_owned(),
                    stack._env.brokers.clone(),
                ),
                (
                    "COMANDA__KAFKA__TOPIC_PREFIX".to_owned(),
                    stack._env.prefix.clone(),
                ),
            ]
        };
        let mut launches = Vec::new();
        for service in &services {
            let mut vars = common(service.port);
            vars.push(("COMANDA__DATABASE__URL".into(), service.database.clone()));
            launches.push((service.name, service.port, vars));
        }
        let relay_port = free_port();
        let mut relay = common(relay_port);
        for service in &services {
            let source = service.name.trim_end_matches("-service").to_uppercase();
            relay.push((
                format!("COMANDA__SOURCES__{source}__URL"),
                service.database.clone(),
            ));
        }
        relay.push(("COMANDA__RELAY__POLL_INTERVAL_MS".into(), "200".into()));
        launches.push(("outbox-relay", relay_port, relay));
        let gateway_port = free_port();
        let mut gateway = common(gateway_port);
        for service in &services {
            let upstream = service.name.trim_end_matches("-service").to_uppercase();
            gateway.push((
                format!("COMANDA__UPSTREAMS__{upstream}__URLS"),
                format!("http://127.0.0.1:{}", service.port),
            ));
        }
        launches.push(("gateway", gateway_port, gateway));

        for (name, port, vars) in launches {
            stack.spawn(name, &vars);
            wait_ready(name, port).await;
        }
        stack.gateway = format!("http://127.0.0.1:{gateway_port}");
        stack
    }

    fn spawn(&mut self, name: &str, vars: &[(String, String)]) {
        let mut command = Command::new(binary(name));
        command
            .envs(vars.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        if std::env::var_os("TEST_LOG").is_none() {
            command.stdout(Stdio::null()).stderr(Stdio::null());
        }
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        self.children.push((name.to_owned(), child));
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Checks that the binaries exist. This test never builds them: a cargo build
/// started from inside a running test suite can relink test binaries that the
/// runner is about to execute. `cargo nextest run --workspace` (what `cargo xtask
/// test` runs) builds every binary before any test starts, because each binary's
/// package has integration tests; run alone, build first:
/// `cargo build --bins && cargo nextest run -p e2e`.
fn check_binaries() {
    for name in BINARIES {
        let path = binary(name);
        assert!(
            path.exists(),
            "{} is missing: run `cargo build --bins` (or the whole suite) first",
            path.display()
        );
    }
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn binary(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("debug").join(name)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

async fn wait_ready(name: &str, port: u16) {
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/ready");
    eventually(Duration::from_secs(60), &format!("{name} is ready"), || {
        let request = client.get(&url).send();
        async move { request.await.is_ok_and(|r| r.status().is_success()) }
    })
    .await;
}
