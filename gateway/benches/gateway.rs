//! What the gateway costs: the same requests directly and through the gateway, in
//! one run, against two upstreams; prints the throughput ratio (goal ≥ 0.85) and the
//! latency added at p50 (goal ≤ 0.5 ms) and p99 for each.
//!
//! 1. A trivial upstream answering a constant: the gateway's whole cost, with nothing
//!    to hide it (on a 2-core machine the gateway's extra HTTP hop alone is about
//!    as much work as the upstream's).
//! 2. A real product-service (`GET /api/v1/products`, a page read from Postgres):
//!    what a client of Comanda actually sees.
//!
//! Everything runs in this process on loopback; the second scenario needs Postgres
//! and the broker (`cargo xtask bench gateway` provides both). `BENCH_REQUESTS`
//! (default 20 000) and `BENCH_CONCURRENCY` (default 32) size the run.

use std::time::{Duration, Instant};

use actix_web::{web, HttpResponse};
use comanda_kit::health::Readiness;
use comanda_kit::http::Server;
use comanda_kit::settings::HttpSettings;
use futures::StreamExt as _;
use hdrhistogram::Histogram;

/// One pass: its wall time and the latency of every request, in microseconds.
struct Pass {
    elapsed: Duration,
    latencies: Histogram<u64>,
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
    let http = HttpSettings {
        host: "127.0.0.1".to_owned(),
        port: 0,
    };

    let upstream = Server::bind(&http, Readiness::new(), |cfg| {
        cfg.route(
            "/api/v1/products",
            web::get().to(|| async { HttpResponse::Ok().body(r#"{"items":[]}"#) }),
        );
    })?;
    let upstream_url = format!("http://127.0.0.1:{}", upstream.port());
    tokio::spawn(upstream.run_until_stopped(std::future::pending()));

    let product = product_service();
    let product = product.await?;
    let product_url = format!("http://127.0.0.1:{}", product.port());
    tokio::spawn(product.run_until_stopped(std::future::pending()));

    let mut settings: gateway::settings::Settings =
        comanda_kit::settings::load(gateway::settings::DEFAULTS)?;
    settings.http = http;
    // Two gateways: one in front of each upstream.
    settings.upstreams.product.urls = vec![upstream_url.clone()];
    let trivial_gateway = gateway::startup::build(&settings)?;
    settings.upstreams.product.urls = vec![product_url.clone()];
    let product_gateway = gateway::startup::build(&settings)?;
    let trivial_gateway_url = format!("http://127.0.0.1:{}", trivial_gateway.port());
    let product_gateway_url = format!("http://127.0.0.1:{}", product_gateway.port());
    tokio::spawn(trivial_gateway.run_until_stopped(std::future::pending()));
    tokio::spawn(product_gateway.run_until_stopped(std::future::pending()));

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .tcp_nodelay(true)
        .build()?;
    let path = "/api/v1/products?size=20";
    println!(
        "gateway bench: {requests} GETs per pass, {concurrency} at a time, loopback, one process"
    );
    for (name, direct_base, gateway_base) in [
        ("trivial upstream", &upstream_url, &trivial_gateway_url),
        ("product-service", &product_url, &product_gateway_url),
    ] {
        let direct_url = format!("{direct_base}{path}");
        let through_url = format!("{gateway_base}{path}");
        // Warm-up: connections, pools, caches of both servers.
        drive(&client, &direct_url, requests / 10, concurrency).await?;
        drive(&client, &through_url, requests / 10, concurrency).await?;
        let direct = drive(&client, &direct_url, requests, concurrency).await?;
        let through = drive(&client, &through_url, requests, concurrency).await?;
        println!("{name}:");
        report("  direct ", requests, &direct);
        report("  gateway", requests, &through);
        let ratio = direct.elapsed.as_secs_f64() / through.elapsed.as_secs_f64();
        let added = |q: f64| {
            (through.latencies.value_at_quantile(q) as f64
                - direct.latencies.value_at_quantile(q) as f64)
                / 1000.0
        };
        println!(
            "  throughput ratio gateway/direct: {ratio:.2} (goal >= 0.85); added latency p50 {:.3} ms (goal <= 0.5), p99 {:.3} ms",
            added(0.5),
            added(0.99)
        );
    }
    Ok(())
}

/// product-service on port 0 with a fresh database and the dev seed.
async fn product_service() -> anyhow::Result<product_service::startup::Application> {
    let mut service = comanda_kit::testing::service_settings("bench_gateway").await;
    service.env = "dev".to_owned(); // seeds the demo catalogue
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
    Ok(Pass {
        elapsed: started.elapsed(),
        latencies,
    })
}

fn report(name: &str, requests: usize, pass: &Pass) {
    let ms = |q: f64| pass.latencies.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "{name:>8}: {:>8.0} req/s  p50 {:.3} ms  p99 {:.3} ms",
        requests as f64 / pass.elapsed.as_secs_f64(),
        ms(0.5),
        ms(0.99)
    );
}
