//! What the gateway costs: the same requests directly and through the gateway, in
//! one run.
//!
//! Two measurements per scenario, each alternating direct and gateway passes over
//! several rounds (the median round counts, so a noisy moment on a shared machine
//! cannot decide it):
//! - **throughput** under load: `BENCH_CONCURRENCY` (default 32) requests in flight,
//!   `BENCH_REQUESTS` (default 20 000) per pass. Goal: gateway ≥ 0.85 × direct.
//! - **added latency** of the extra hop: one request at a time
//!   (`BENCH_LATENCY_REQUESTS`, default 2 000 per pass). Goal: p50 + ≤ 0.5 ms.
//!   Under saturation every request also waits behind the others, so latency there
//!   follows from throughput; the hop's own cost is what one request alone pays.
//!
//! Each pass also prints how busy the CPUs were and the CPU time per request, for the
//! machine and for the processes of the scenario.
//!
//! Scenarios:
//! 1. **product-service, shared cores** (`GET /api/v1/products?size=20`, a page read
//!    from Postgres). Client, product-service and gateway run in this process, and
//!    with Postgres share every core, so the gateway's CPU is taken from the
//!    service's: the throughput ratio here is the price of the hop's CPU, printed
//!    without a goal. The latency goal applies.
//! 2. **trivial upstream, shared cores**: an upstream answering a constant, so the
//!    gateway's whole cost shows with nothing to hide it. No goal: a hop costs about
//!    as much CPU as a do-nothing upstream.
//! 3. **product-service, deployment shape** (with `BENCH_BIN_DIR`, see [`isolated`]):
//!    the real binaries, and the service side on a core of its own in both passes, as
//!    a deployment gives the gateway its own CPU. Both goals apply: does putting the
//!    gateway in front lower what the service can serve?
//!
//! Scenarios 1 and 2 need Postgres and the broker (`cargo xtask bench gateway`
//! provides both and builds the binaries for 3). `BENCH_ONLY=trivial` runs scenario 2
//! alone (no Postgres, no broker): handy under a profiler.

mod cpu;
mod isolated;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use actix_web::{web, HttpResponse};
use comanda_kit::health::Readiness;
use comanda_kit::http::Server;
use comanda_kit::settings::HttpSettings;
use comanda_testkit::env_or;
use cpu::{CpuSample, CpuUse, Watched};
use futures::StreamExt as _;
use hdrhistogram::Histogram;

/// Rounds of each measurement; the median one is reported.
const ROUNDS: usize = 3;
const THROUGHPUT_GOAL: f64 = 0.85;
const ADDED_P50_GOAL_MS: f64 = 0.5;

/// One pass: its wall time, the latency of every request in microseconds, and the
/// CPU it used (a pass that leaves the CPUs idle measures waiting, not cost).
struct Pass {
    elapsed: Duration,
    latencies: Histogram<u64>,
    cpu: Option<CpuUse>,
}

impl Pass {
    fn per_second(&self, requests: usize) -> f64 {
        requests as f64 / self.elapsed.as_secs_f64()
    }

    fn ms(&self, quantile: f64) -> f64 {
        self.latencies.value_at_quantile(quantile) as f64 / 1000.0
    }
}

/// A direct and a gateway pass run back to back.
struct Round {
    direct: Pass,
    gateway: Pass,
}

/// How hard each pass drives.
struct Load {
    /// GETs per throughput pass.
    requests: usize,
    /// Requests in flight during a throughput pass.
    concurrency: usize,
    /// GETs per latency pass (one at a time).
    latency_requests: usize,
}

/// The goals a scenario is held to.
#[derive(Clone, Copy)]
struct Goals {
    throughput: bool,
    latency: bool,
}

impl Goals {
    const NONE: Self = Self {
        throughput: false,
        latency: false,
    };
}

/// One upstream, reached directly and through a gateway.
struct Scenario {
    name: &'static str,
    direct: String,
    gateway: String,
    /// Which goals apply: both to a real service given its own core (the deployment
    /// shape); the latency goal alone where everything shares the cores; none to a
    /// do-nothing upstream.
    goals: Goals,
    /// Processes whose CPU each pass reports.
    watched: Vec<Watched>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let load = Load {
        requests: env_or::<usize>("BENCH_REQUESTS", 20_000),
        concurrency: env_or::<usize>("BENCH_CONCURRENCY", 32),
        latency_requests: env_or::<usize>("BENCH_LATENCY_REQUESTS", 2_000),
    };
    let http = HttpSettings {
        host: "127.0.0.1".to_owned(),
        port: 0,
    };

    let trivial = Server::bind(&http, Readiness::new(), |cfg| {
        cfg.route(
            "/api/v1/products",
            web::get().to(|| async { HttpResponse::Ok().body(r#"{"items":[]}"#) }),
        );
    })?;
    let trivial_url = format!("http://127.0.0.1:{}", trivial.port());
    tokio::spawn(trivial.run_until_stopped(std::future::pending()));

    let trivial_only = std::env::var("BENCH_ONLY").is_ok_and(|only| only == "trivial");
    let product_url = if trivial_only {
        None
    } else {
        let product = product_service().await?;
        let url = format!("http://127.0.0.1:{}", product.port());
        tokio::spawn(product.run_until_stopped(std::future::pending()));
        Some(url)
    };

    let mut settings: gateway::settings::Settings =
        comanda_kit::settings::load(gateway::settings::DEFAULTS)?;
    settings.http = http;
    // A gateway in front of each upstream.
    let mut gateway_before = |upstream: &str| -> anyhow::Result<String> {
        settings.upstreams.product.urls = vec![upstream.to_owned()];
        let gateway = gateway::startup::build(&settings)?;
        let url = format!("http://127.0.0.1:{}", gateway.port());
        tokio::spawn(gateway.run_until_stopped(std::future::pending()));
        Ok(url)
    };

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(load.concurrency)
        .tcp_nodelay(true)
        .build()?;
    let path = "/api/v1/products?size=20";
    println!(
        "gateway bench: {} cores; median of {ROUNDS} rounds\n  \
         throughput: {} GETs per pass, {} in flight\n  \
         added latency: {} GETs per pass, one at a time\n\
         shared cores: client, servers and gateways in this process, on every core",
        std::thread::available_parallelism().map_or(0, usize::from),
        load.requests,
        load.concurrency,
        load.latency_requests,
    );
    let mut scenarios = Vec::new();
    if let Some(product_url) = &product_url {
        scenarios.push(Scenario {
            name: "product-service, shared cores",
            direct: format!("{product_url}{path}"),
            gateway: format!("{}{path}", gateway_before(product_url)?),
            // The throughput goal is the deployment shape's: here the gateway's CPU is
            // taken from the service's, and the ratio prices the hop.
            goals: Goals {
                throughput: false,
                latency: true,
            },
            watched: vec![Watched::this_process()],
        });
    }
    scenarios.push(Scenario {
        name: "trivial upstream, shared cores",
        direct: format!("{trivial_url}{path}"),
        gateway: format!("{}{path}", gateway_before(&trivial_url)?),
        goals: Goals::NONE,
        watched: vec![Watched::this_process()],
    });
    for scenario in &scenarios {
        measure(&client, &load, scenario).await?;
    }
    if let (false, Some(bin_dir)) = (trivial_only, std::env::var_os("BENCH_BIN_DIR")) {
        isolated::run(&client, &load, &PathBuf::from(bin_dir)).await?;
    }
    Ok(())
}

/// Warms `scenario` up, runs its rounds and prints the median ones.
async fn measure(client: &reqwest::Client, load: &Load, scenario: &Scenario) -> anyhow::Result<()> {
    let Load {
        requests,
        concurrency,
        latency_requests,
    } = *load;
    let (direct, gateway, watched) = (&scenario.direct, &scenario.gateway, &scenario.watched);
    // Warm-up: connections, pools, caches of every server on the way.
    drive(client, direct, requests / 10, concurrency, watched).await?;
    drive(client, gateway, requests / 10, concurrency, watched).await?;

    let mut loaded = Vec::new();
    let mut alone = Vec::new();
    for _ in 0..ROUNDS {
        loaded.push(Round {
            direct: drive(client, direct, requests, concurrency, watched).await?,
            gateway: drive(client, gateway, requests, concurrency, watched).await?,
        });
        alone.push(Round {
            direct: drive(client, direct, latency_requests, 1, watched).await?,
            gateway: drive(client, gateway, latency_requests, 1, watched).await?,
        });
    }
    let ratio = |r: &Round| r.direct.elapsed.as_secs_f64() / r.gateway.elapsed.as_secs_f64();
    let added_p50 = |r: &Round| r.gateway.ms(0.5) - r.direct.ms(0.5);
    let loaded = median_by(loaded, ratio);
    let alone = median_by(alone, added_p50);
    let goals = scenario.goals;

    println!("{}:", scenario.name);
    println!("  throughput, {concurrency} in flight:");
    report("direct", requests, &loaded.direct);
    report("gateway", requests, &loaded.gateway);
    println!(
        "    ratio gateway/direct {:.2}{}",
        ratio(&loaded),
        verdict(
            goals.throughput,
            ratio(&loaded) >= THROUGHPUT_GOAL,
            "≥",
            THROUGHPUT_GOAL
        )
    );
    println!("  added latency, one request at a time:");
    report("direct", latency_requests, &alone.direct);
    report("gateway", latency_requests, &alone.gateway);
    println!(
        "    added p50 {:.3} ms{}, p99 {:.3} ms",
        added_p50(&alone),
        verdict(
            goals.latency,
            added_p50(&alone) <= ADDED_P50_GOAL_MS,
            "≤",
            ADDED_P50_GOAL_MS
        ),
        alone.gateway.ms(0.99) - alone.direct.ms(0.99),
    );
    Ok(())
}

/// product-service on port 0 with a fresh database, the dev seed, and its shipped
/// defaults otherwise (notably the database pool size: the tests' smaller pool would
/// make the database the bottleneck of the direct passes).
async fn product_service() -> anyhow::Result<product_service::startup::Application> {
    let shipped = product_service::settings::Settings::load(product_service::settings::DEFAULTS)?;
    let mut service = comanda_kit::testing::service_settings("bench_gateway").await;
    service.env = comanda_kit::settings::Env::Dev; // seeds the demo catalogue
    service.database.pool_size = shipped.service.database.pool_size;
    let settings = comanda_kit::settings::SecuredSettings::with_dev_auth(service);
    product_service::startup::Application::build(settings).await
}

/// Sends `requests` GETs to `url`, `concurrency` at a time, on kept-alive connections.
async fn drive(
    client: &reqwest::Client,
    url: &str,
    requests: usize,
    concurrency: usize,
    watched: &[Watched],
) -> anyhow::Result<Pass> {
    let mut latencies = Histogram::<u64>::new(3)?;
    let cpu_before = CpuSample::now(watched);
    let started = Instant::now();
    let mut results = futures::stream::iter(0..requests)
        .map(|_| async move {
            let sent = Instant::now();
            let res = client.get(url).send().await?;
            anyhow::ensure!(res.status().is_success(), "{url}: {}", res.status());
            res.bytes().await?;
            Ok(sent.elapsed())
        })
        .buffer_unordered(concurrency);
    while let Some(latency) = results.next().await {
        latencies.record(latency?.as_micros() as u64)?;
    }
    let elapsed = started.elapsed();
    let cpu = cpu_before
        .zip(CpuSample::now(watched))
        .map(|(before, after)| after.since(&before, requests));
    Ok(Pass {
        elapsed,
        latencies,
        cpu,
    })
}

/// The round in the middle when ordered by `key`.
fn median_by(mut rounds: Vec<Round>, key: impl Fn(&Round) -> f64) -> Round {
    rounds.sort_by(|a, b| key(a).total_cmp(&key(b)));
    rounds.swap_remove(rounds.len() / 2)
}

fn report(name: &str, requests: usize, pass: &Pass) {
    let cpu = pass
        .cpu
        .as_ref()
        .map_or_else(String::new, |cpu| format!("  {}", cpu.describe()));
    println!(
        "    {name:>7}: {:>8.0} req/s  p50 {:.3} ms  p99 {:.3} ms{cpu}",
        pass.per_second(requests),
        pass.ms(0.5),
        pass.ms(0.99)
    );
}

/// " (goal ≥ 0.85: met)" and the like, or nothing for a scenario without goals.
fn verdict(applies: bool, met: bool, relation: &str, goal: f64) -> String {
    if !applies {
        return String::new();
    }
    let outcome = if met { "met" } else { "MISSED" };
    format!(" (goal {relation} {goal}: {outcome})")
}
