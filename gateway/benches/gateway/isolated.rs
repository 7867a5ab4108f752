//! The deployment shape: the gateway and product-service as their real binaries, each
//! in its own process, and the service never sharing a core with the edge.
//!
//! The shared-core passes answer "what does the hop cost?": there the gateway's CPU is
//! taken from product-service's and Postgres's. A deployment gives the gateway its own
//! CPU, so this pass answers "does putting the gateway in front lower what the service
//! can serve?". Both passes give the service side the same CPU:
//! - core [`SERVICE_CPU`]: product-service and the Postgres backends of its pool;
//! - core [`EDGE_CPU`]: the load generator (this process), and in gateway passes the
//!   gateway.
//!
//! Runs when `BENCH_BIN_DIR` names the directory of release binaries (`cargo xtask
//! bench gateway` builds them) and `taskset` exists; it needs two CPUs.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context as _;

use crate::cpu::Watched;
use crate::{drive, measure, Goals, Load, Scenario};

/// The core of the load generator and the gateway.
const EDGE_CPU: &str = "0";
/// The core of product-service and its Postgres backends.
const SERVICE_CPU: &str = "1";
/// How long a binary gets to become ready.
const READY_WITHIN: Duration = Duration::from_secs(60);

/// Runs the product read against the two binaries, or says why it cannot run here.
pub async fn run(client: &reqwest::Client, load: &Load, bin_dir: &Path) -> anyhow::Result<()> {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    if cpus < 2 || Command::new("taskset").arg("-V").output().is_err() {
        println!("deployment shape: skipped (needs 2 CPUs and `taskset`)");
        return Ok(());
    }
    let database_url = comanda_kit::testing::fresh_database("bench_isolated").await;
    let product_port = free_port()?;
    let gateway_port = free_port()?;
    let product_url = format!("http://127.0.0.1:{product_port}");
    let gateway_url = format!("http://127.0.0.1:{gateway_port}");

    let product = Running::start(
        Command::new("taskset")
            .args(["-c", SERVICE_CPU])
            .arg(bin_dir.join("product-service"))
            .env("COMANDA__ENV", "dev") // seeds the demo catalogue
            .env("COMANDA__HTTP__PORT", product_port.to_string())
            .env("COMANDA__DATABASE__URL", &database_url)
            .env(
                "COMANDA__KAFKA__BROKERS",
                comanda_kit::testing::kafka_brokers(),
            ),
    )?;
    let gateway = Running::start(
        Command::new("taskset")
            .args(["-c", EDGE_CPU])
            .arg(bin_dir.join("gateway"))
            .env("COMANDA__ENV", "dev")
            .env("COMANDA__HTTP__PORT", gateway_port.to_string())
            .env("COMANDA__UPSTREAMS__PRODUCT__URLS", &product_url),
    )?;
    wait_ready(client, &product_url).await;
    wait_ready(client, &gateway_url).await;

    pin_this_process(EDGE_CPU)?;
    let path = "/api/v1/products?size=20";
    let direct = format!("{product_url}{path}");
    // Opens every connection of the service's pool, then keeps those backends on the
    // service's core.
    drive(client, &direct, load.requests / 10, load.concurrency, &[]).await?;
    let backends = match pin_backends(&database_url).await {
        Ok(pinned) => format!("its {pinned} Postgres backends"),
        // Another user's processes: pinning them needs the right to.
        Err(error) => format!("Postgres backends NOT pinned ({error:#})"),
    };
    println!(
        "deployment shape: gateway and product-service binaries; core {SERVICE_CPU}: \
         product-service + {backends}; core {EDGE_CPU}: load generator + gateway"
    );
    measure(
        client,
        load,
        &Scenario {
            name: "product-service, deployment shape",
            direct,
            gateway: format!("{gateway_url}{path}"),
            goals: Goals {
                throughput: true,
                latency: true,
            },
            watched: vec![
                Watched::child("gateway", gateway.pid()),
                Watched::child("product-service", product.pid()),
            ],
        },
    )
    .await
}

/// A child process, killed when dropped.
struct Running(Child);

impl Running {
    fn start(command: &mut Command) -> anyhow::Result<Self> {
        let child = command
            // Logs are written as in production, to a sink nobody reads.
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {command:?}"))?;
        Ok(Self(child))
    }

    /// `taskset` execs the binary, so this is the binary's pid.
    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

async fn wait_ready(client: &reqwest::Client, base: &str) {
    let url = format!("{base}/ready");
    comanda_testkit::eventually(READY_WITHIN, &format!("{url} answers 200"), || async {
        let ready = client.get(&url).send().await;
        ready.is_ok_and(|res| res.status().is_success())
    })
    .await;
}

/// Every thread of this process (client runtime, idle in-process servers) onto `cpu`.
fn pin_this_process(cpu: &str) -> anyhow::Result<()> {
    taskset(cpu, &std::process::id().to_string(), true)
}

/// The Postgres backends serving `database_url` onto the service's core; returns how many.
async fn pin_backends(database_url: &str) -> anyhow::Result<usize> {
    let (sql, connection) = tokio_postgres::connect(database_url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    let rows = sql
        .query(
            "SELECT pid FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
            &[],
        )
        .await?;
    for row in &rows {
        let pid: i32 = row.get(0);
        taskset(SERVICE_CPU, &pid.to_string(), false)?;
    }
    Ok(rows.len())
}

fn taskset(cpu: &str, pid: &str, all_threads: bool) -> anyhow::Result<()> {
    let mut command = Command::new("taskset");
    if all_threads {
        command.arg("-a");
    }
    let status = command
        .args(["-p", "-c", cpu, pid])
        .stdout(Stdio::null())
        .status()?;
    anyhow::ensure!(status.success(), "taskset -c {cpu} {pid}: {status}");
    Ok(())
}
