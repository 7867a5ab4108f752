//! What the gateway costs: the same requests directly and through the gateway, in
//! one run, against two upstreams.
//!
//! Two measurements per upstream, each alternating direct and gateway passes over
//! several rounds (the median round counts, so a noisy moment on a shared machine
//! cannot decide it):
//! - **throughput** under load: `BENCH_CONCURRENCY` (default 32) requests in flight,
//!   `BENCH_REQUESTS` (default 20 000) per pass. Goal: gateway ≥ 0.85 × direct.
//! - **added latency** of the extra hop: one request at a time
//!   (`BENCH_LATENCY_REQUESTS`, default 2 000 per pass). Goal: p50 + ≤ 0.5 ms.
//!   Under saturation every request also waits behind the others, so latency there
//!   follows from throughput; it is printed too, but the hop's own cost is what one
//!   request alone pays.
//!
//! Each pass also prints how busy the CPUs were and the CPU time per request, for the
//! machine and for this process (client, servers, gateways; the rest is mostly
//! Postgres): on a machine where they all share the cores, the gateway's CPU is taken
//! from the service's, and the difference between two passes is the hop's real cost.
//!
//! Upstreams:
//! 1. **product-service** (`GET /api/v1/products?size=20`, a page read from Postgres):
//!    what a client of Comanda sees. The goals apply here.
//! 2. **trivial**: an upstream answering a constant, so the gateway's whole cost shows
//!    with nothing to hide it. No goal: on a 2-core machine running client, gateway and
//!    upstream at once, a hop costs about as much CPU as a do-nothing upstream.
//!
//! Everything runs in this process on loopback; product-service needs Postgres and
//! the broker (`cargo xtask bench gateway` provides both). `BENCH_ONLY=trivial` runs
//! the trivial upstream alone (no Postgres, no broker): handy under a profiler.

use std::time::{Duration, Instant};

use actix_web::{web, HttpResponse};
use comanda_kit::health::Readiness;
use comanda_kit::http::Server;
use comanda_kit::settings::HttpSettings;
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

/// CPU time during a pass, from `/proc` (Linux): the machine's, and this process's
/// (client, servers and gateways; the rest is mostly Postgres).
#[derive(Clone, Copy)]
struct CpuUse {
    /// Fraction of all CPUs' time that was busy.
    busy: f64,
    /// CPU time per request, whole machine and this process, in microseconds.
    machine_us: f64,
    process_us: f64,
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

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let requests = env_or("BENCH_REQUESTS", 20_000);
    let concurrency = env_or("BENCH_CONCURRENCY", 32);
    let latency_requests = env_or("BENCH_LATENCY_REQUESTS", 2_000);
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
        // Never asked for: the scenario is skipped below.
        trivial_url.clone()
    } else {
        let product = product_service().await?;
        let url = format!("http://127.0.0.1:{}", product.port());
        tokio::spawn(product.run_until_stopped(std::future::pending()));
        url
    };

    let mut settings: gateway::settings::Settings =
        comanda_kit::settings::load(gateway::settings::DEFAULTS)?;
    settings.http = http;
    // Two gateways: one in front of each upstream.
    settings.upstreams.product.urls = vec![product_url.clone()];
    let product_gateway = gateway::startup::build(&settings)?;
    settings.upstreams.product.urls = vec![trivial_url.clone()];
    let trivial_gateway = gateway::startup::build(&settings)?;
    let product_gateway_url = format!("http://127.0.0.1:{}", product_gateway.port());
    let trivial_gateway_url = format!("http://127.0.0.1:{}", trivial_gateway.port());
    tokio::spawn(product_gateway.run_until_stopped(std::future::pending()));
    tokio::spawn(trivial_gateway.run_until_stopped(std::future::pending()));

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .tcp_nodelay(true)
        .build()?;
    let path = "/api/v1/products?size=20";
    println!(
        "gateway bench: loopback, one process, {} cores; median of {ROUNDS} rounds\n  \
         throughput: {requests} GETs per pass, {concurrency} in flight\n  \
         added latency: {latency_requests} GETs per pass, one at a time",
        std::thread::available_parallelism().map_or(0, usize::from),
    );
    for (name, direct_base, gateway_base, has_goals) in [
        ("product-service", &product_url, &product_gateway_url, true),
        (
            "trivial upstream",
            &trivial_url,
            &trivial_gateway_url,
            false,
        ),
    ] {
        if trivial_only && has_goals {
            continue;
        }
        let direct_url = format!("{direct_base}{path}");
        let gateway_url = format!("{gateway_base}{path}");
        // Warm-up: connections, pools, caches of every server on the way.
        drive(&client, &direct_url, requests / 10, concurrency).await?;
        drive(&client, &gateway_url, requests / 10, concurrency).await?;

        let mut loaded = Vec::new();
        let mut alone = Vec::new();
        for _ in 0..ROUNDS {
            loaded.push(Round {
                direct: drive(&client, &direct_url, requests, concurrency).await?,
                gateway: drive(&client, &gateway_url, requests, concurrency).await?,
            });
            alone.push(Round {
                direct: drive(&client, &direct_url, latency_requests, 1).await?,
                gateway: drive(&client, &gateway_url, latency_requests, 1).await?,
            });
        }
        let ratio = |r: &Round| r.direct.elapsed.as_secs_f64() / r.gateway.elapsed.as_secs_f64();
        let added_p50 = |r: &Round| r.gateway.ms(0.5) - r.direct.ms(0.5);
        let loaded = median_by(loaded, ratio);
        let alone = median_by(alone, added_p50);

        println!("{name}:");
        println!("  throughput, {concurrency} in flight:");
        report("direct", requests, &loaded.direct);
        report("gateway", requests, &loaded.gateway);
        println!(
            "    ratio gateway/direct {:.2}{}",
            ratio(&loaded),
            verdict(
                has_goals,
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
                has_goals,
                added_p50(&alone) <= ADDED_P50_GOAL_MS,
                "≤",
                ADDED_P50_GOAL_MS
            ),
            alone.gateway.ms(0.99) - alone.direct.ms(0.99),
        );
    }
    Ok(())
}

/// product-service on port 0 with a fresh database, the dev seed, and its shipped
/// defaults otherwise (notably the database pool size: the tests' smaller pool would
/// make the database the bottleneck of the direct passes).
async fn product_service() -> anyhow::Result<product_service::startup::Application> {
    let shipped = product_service::settings::Settings::load(product_service::settings::DEFAULTS)?;
    let mut service = comanda_kit::testing::service_settings("bench_gateway").await;
    service.env = "dev".to_owned(); // seeds the demo catalogue
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
) -> anyhow::Result<Pass> {
    let mut latencies = Histogram::<u64>::new(3)?;
    let cpu_before = CpuSample::now();
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
        .zip(CpuSample::now())
        .map(|(before, after)| after.since(&before, requests));
    Ok(Pass {
        elapsed,
        latencies,
        cpu,
    })
}

/// Cumulative CPU counters, in clock ticks (`USER_HZ`, 100 per second on Linux).
struct CpuSample {
    machine_busy: u64,
    machine_total: u64,
    process: u64,
}

impl CpuSample {
    const TICK_US: f64 = 10_000.0;

    fn now() -> Option<Self> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let fields: Vec<u64> = stat
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .filter_map(|v| v.parse().ok())
            .collect();
        let machine_total: u64 = fields.iter().sum();
        // idle and iowait are the 4th and 5th columns.
        let idle = fields.get(3)? + fields.get(4).unwrap_or(&0);
        // utime and stime, fields 14 and 15, counted after the `(name)` that may hold spaces.
        let own = std::fs::read_to_string("/proc/self/stat").ok()?;
        let after_name: Vec<&str> = own.rsplit_once(')')?.1.split_whitespace().collect();
        let process =
            after_name.get(11)?.parse::<u64>().ok()? + after_name.get(12)?.parse::<u64>().ok()?;
        Some(Self {
            machine_busy: machine_total - idle,
            machine_total,
            process,
        })
    }

    fn since(&self, before: &Self, requests: usize) -> CpuUse {
        let busy = self.machine_busy - before.machine_busy;
        let per_request = |ticks: u64| ticks as f64 * Self::TICK_US / requests.max(1) as f64;
        CpuUse {
            busy: busy as f64 / (self.machine_total - before.machine_total).max(1) as f64,
            machine_us: per_request(busy),
            process_us: per_request(self.process - before.process),
        }
    }
}

/// The round in the middle when ordered by `key`.
fn median_by(mut rounds: Vec<Round>, key: impl Fn(&Round) -> f64) -> Round {
    rounds.sort_by(|a, b| key(a).total_cmp(&key(b)));
    rounds.swap_remove(rounds.len() / 2)
}

fn report(name: &str, requests: usize, pass: &Pass) {
    let cpu = pass.cpu.map_or_else(String::new, |cpu| {
        format!(
            "  CPUs {:.0}% busy, {:.0} µs CPU/request ({:.0} in this process)",
            cpu.busy * 100.0,
            cpu.machine_us,
            cpu.process_us
        )
    });
    println!(
        "    {name:>7}: {:>8.0} req/s  p50 {:.3} ms  p99 {:.3} ms{cpu}",
        pass.per_second(requests),
        pass.ms(0.5),
        pass.ms(0.99)
    );
}

/// " (goal ≥ 0.85: met)" and the like, or nothing for a scenario without goals.
fn verdict(has_goals: bool, met: bool, relation: &str, goal: f64) -> String {
    if !has_goals {
        return String::new();
    }
    let outcome = if met { "met" } else { "MISSED" };
    format!(" (goal {relation} {goal}: {outcome})")
}
