//! `cargo xtask bench e2e`: how many orders per second the whole system takes from
//! `POST /api/v1/orders` to the order's stock decision (CONFIRMED or REJECTED), what
//! each costs in CPU per process, and how that compares with the database's own
//! ceiling for the same work, in one run.
//!
//! # What it runs
//! For each client count `C` (`--clients 8,32`, default 32):
//! 1. **saturation**: the whole system as real processes (release binaries from
//!    `BENCH_BIN_DIR`, which xtask builds and sets; `target/debug` without it) on fresh
//!    databases and a tansu of its own (`TANSU_BIN`). `C` customers are registered and logged in and the
//!    catalogue stocked before the clock. `C` clients then POST orders back to back
//!    through the gateway, each with its own `Idempotency-Key`: a warm-up
//!    (`--warmup`, then the system drains), then `--seconds` of load. Nothing reads the
//!    API meanwhile; afterwards the decision time of every order is read from
//!    order-service's database (the inbox's `processed_at` of the stock reply the order's
//!    timeline holds).
//! 2. **ceiling**: the SQL transactions the saga commits per order, straight against
//!    fresh Postgres databases by `C` clients in a tight loop, with the relay's marks
//!    (see `ceiling`). `ratio = e2e / ceiling` compares the orders decided per second
//!    *during* the load with it (goal ≥ 0.5).
//!
//! Then **paced** (`--rate`, default 100 orders/s; 0 skips it): the same system offered
//! a steady rate, where the goal is POST → decided p50 ≤ 50 ms, p99 ≤ 150 ms.
//!
//! Printed per run: orders/s accepted, decided during the load and overall, POST
//! latency and POST → decided p50/p99 with the hops in between (see `hops`), CPU time
//! per order of each process (Postgres: the backends serving the stack's databases, and
//! the server's own processes, shared with whatever else uses the server; the broker,
//! the bench's own clients, and the whole machine; from `/proc`) with what each burns idle
//! (sampled for 5 s before the load) and the rest net of it, the outbox/inbox backlog
//! when the load ended, and how many stock requests order-service sent again because
//! their answer was late (its deadline, 30 s by default).
//!
//! `--orders N` runs the soak instead: N orders at `--rate`, with POST → decided p99 and
//! the outbox, inbox and orders tables' sizes at 10k, 100k, 1M and N, the relay keeping
//! `--retention` seconds of rows, the clients ordering for `--customers` customers in
//! turn (see `soak`).
//!
//! `--only saturation,ceiling,paced` (or `BENCH_ONLY`) runs some parts. Needs Postgres
//! (`DATABASE_ADMIN_URL`) and tansu (`TANSU_BIN`, else `~/.cargo/bin/tansu`); xtask sets
//! both. Not part of `cargo xtask test`.
//!
//! # Layout
//! - `setup`: the stack, its raised limits, customers and catalogue.
//! - `load`: the clients, back to back or paced.
//! - `observe`: decisions, backlog and settling, read from the databases.
//! - `hops`: where an order's time goes between POST and decision.
//! - `report`: what a run prints.
//! - `ceiling`: the saga's transactions straight on Postgres.
//! - `cpu`: CPU time from `/proc`.
//! - `soak`: `--orders N`, flat cost at scale.
#![allow(missing_docs, clippy::unwrap_used)]

mod ceiling;
mod cpu;
mod hops;
mod load;
mod observe;
mod report;
mod setup;
mod soak;

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use clap::{Parser, ValueEnum};
use comanda_testkit::broker::PrivateBroker;
use cpu::{Sample, Watched};
use e2e::stack::{Stack, BINARIES, SERVICES};
use load::Pace;
use observe::Databases;
use report::{decided_quantiles, load_average, ms, print_cpu, report, since, verdict, Figures};

const RATIO_GOAL: f64 = 0.5;
const PACED_P50_GOAL_MS: f64 = 50.0;
const PACED_P99_GOAL_MS: f64 = 150.0;
/// How long the system's idle CPU is sampled before the load.
const IDLE: Duration = Duration::from_secs(5);

/// The bench's knobs.
#[derive(Debug, Parser)]
#[command(
    name = "saga",
    about = "The whole saga under load, against the database's ceiling"
)]
struct Args {
    /// Concurrent clients; several (`8,32`) run the saturation and ceiling once each.
    #[arg(long, value_delimiter = ',', default_value = "32")]
    clients: Vec<usize>,
    /// Seconds of measured load (each part).
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// Seconds of warm-up load before the clock (the system drains before it starts).
    #[arg(long, default_value_t = 5)]
    warmup: u64,
    /// Orders per second offered in the paced run (0: no paced run).
    #[arg(long, default_value_t = 100)]
    rate: u64,
    /// Products in the catalogue; each order takes 1–3 of them.
    #[arg(long, default_value_t = 100)]
    products: usize,
    /// Longest wait for the orders to be decided after the load, in seconds.
    #[arg(long, default_value_t = 300)]
    drain: u64,
    /// The soak instead of the other parts: this many orders offered at `--rate`, with
    /// latency and table sizes at 10k, 100k, 1M and the end (see `soak`).
    #[arg(long)]
    orders: Option<u64>,
    /// The soak's retention of published outbox rows and processed messages, in
    /// seconds (the relay's `*_RETENTION_SECS`; a deployment keeps days).
    #[arg(long, default_value_t = 600)]
    retention: u64,
    /// The soak's customers, ordered for in turn by the clients. Each holds its
    /// orders open until they expire (the bench never pays), so with as many
    /// customers as clients each would hold thousands (a real one is capped at
    /// `orders.max_open_per_user`) and the per-customer open-order count would grow
    /// with the run.
    #[arg(long, default_value_t = 512)]
    customers: usize,
    /// The consumers' fetch wait in milliseconds (`kafka.fetch_wait_max_ms`): tansu
    /// holds every fetch this long, so it sets each hop's latency and the broker's
    /// CPU (README, "The broker").
    #[arg(long, default_value_t = comanda_kit::settings::TANSU_FETCH_WAIT_MS)]
    fetch_wait: u64,
    /// Only these parts.
    #[arg(long, env = "BENCH_ONLY", value_delimiter = ',')]
    only: Vec<Part>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, ValueEnum)]
enum Part {
    Saturation,
    Ceiling,
    Paced,
}

impl Args {
    fn runs(&self, part: Part) -> bool {
        self.only.is_empty() || self.only.contains(&part)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let launch = setup::Launch {
        bin_dir: std::env::var_os("BENCH_BIN_DIR").map(PathBuf::from),
        fetch_wait_ms: args.fetch_wait,
    };
    let length = match args.orders {
        Some(_) => "no warm-up, the soak".to_owned(),
        None => format!("{} s warm-up, then {} s of load", args.warmup, args.seconds),
    };
    println!(
        "e2e bench: {} cores, binaries from {}; {} products, orders of 1-3 of them; \
         fetch wait {} ms; {length}",
        std::thread::available_parallelism().map_or(0, usize::from),
        launch.bin_dir.as_ref().map_or_else(
            || "target/debug (no BENCH_BIN_DIR: debug builds!)".to_owned(),
            |d| d.display().to_string()
        ),
        args.products,
        launch.fetch_wait_ms,
    );
    if let Some(orders) = args.orders {
        let clients = args.clients.iter().copied().max().unwrap_or(32);
        let patience = Duration::from_secs(args.drain);
        let retention = Duration::from_secs(args.retention);
        return soak::run(
            &launch,
            (clients, args.customers),
            args.products,
            args.rate,
            orders,
            patience,
            retention,
        )
        .await;
    }
    let mut summary = Vec::new();
    for &clients in &args.clients {
        let e2e = if args.runs(Part::Saturation) {
            Some(e2e(&args, &launch, clients, Pace::Saturate).await?)
        } else {
            None
        };
        let ceiling = if args.runs(Part::Ceiling) {
            println!(
                "\n== ceiling: the saga's transactions straight on Postgres, {clients} clients =="
            );
            println!("   {}", load_average());
            let length = Duration::from_secs(args.seconds);
            let ceiling = ceiling::run(clients, length, args.products).await?;
            println!(
                "   {:.0} orders/s ({} sagas of 3 transactions in {:.1} s, {} failed)",
                ceiling.per_second(),
                ceiling.orders,
                ceiling.elapsed.as_secs_f64(),
                ceiling.failed
            );
            print_cpu(&ceiling.cpu, ceiling.orders, None);
            Some(ceiling.per_second())
        } else {
            None
        };
        if let (Some(e2e), Some(ceiling)) = (&e2e, ceiling) {
            let ratio = e2e.decided_during_per_s / ceiling;
            println!(
                "\n   ratio = e2e / ceiling = {:.0} / {ceiling:.0} = {ratio:.2} (goal >= {RATIO_GOAL}) {}; \
                 overall (with the drain) {:.2}",
                e2e.decided_during_per_s,
                verdict(ratio >= RATIO_GOAL),
                e2e.overall_per_s / ceiling,
            );
        }
        summary.push((clients, e2e, ceiling));
    }
    if args.rate > 0 && args.runs(Part::Paced) {
        let clients = args.clients.iter().copied().max().unwrap_or(32);
        e2e(&args, &launch, clients, Pace::Rate(args.rate)).await?;
    }
    if summary.len() > 1 {
        println!("\nclients | accepted/s | decided/s during load | overall/s | ceiling/s | ratio");
        for (clients, e2e, ceiling) in &summary {
            let cell = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.0}"));
            let ratio = e2e.as_ref().zip(*ceiling).map_or("-".to_owned(), |(e, c)| {
                format!("{:.2}", e.decided_during_per_s / c)
            });
            println!(
                "{clients:>7} | {:>10} | {:>21} | {:>9} | {:>9} | {ratio}",
                cell(e2e.as_ref().map(|e| e.accepted_per_s)),
                cell(e2e.as_ref().map(|e| e.decided_during_per_s)),
                cell(e2e.as_ref().map(|e| e.overall_per_s)),
                cell(*ceiling),
            );
        }
    }
    Ok(())
}

/// One run of the whole system: set up, warm up, load, drain; prints what it measured.
async fn e2e(
    args: &Args,
    launch: &setup::Launch,
    clients: usize,
    pace: Pace,
) -> anyhow::Result<Figures> {
    match pace {
        Pace::Saturate => println!("\n== saturation: {clients} clients back to back =="),
        Pace::Rate(rate) => println!("\n== paced: {rate} orders/s offered by {clients} clients =="),
    }
    let run = setup::Run::start(launch, clients, args.products).await?;
    let db = Databases::connect(&run.stack).await?;
    let patience = Duration::from_secs(args.drain);
    if args.warmup > 0 {
        run.load("warmup")
            .run(pace, Duration::from_secs(args.warmup))
            .await;
        db.wait_decided(patience).await?;
        db.wait_settled(patience).await?;
    }
    let watched = watched(&run.stack, &run.broker, &db);
    let idle = Sample::now(&watched);
    tokio::time::sleep(IDLE).await;
    let idle = Sample::now(&watched).since(&idle);
    println!("   {}", load_average());
    let before = Sample::now(&watched);
    let start = SystemTime::now();
    let tally = run
        .load("load")
        .run(pace, Duration::from_secs(args.seconds))
        .await;
    let load_end = SystemTime::now();
    let backlog = db.backlog().await?;
    let all_decided = db.wait_decided(patience).await?;
    let settled = db.wait_settled(patience).await?;
    let cpu = Sample::now(&watched).since(&before);
    let settle_seconds = since(start, SystemTime::now()).as_secs_f64();
    let since_start = start - Duration::from_secs(1);
    let decisions = db.decisions(since_start).await?;
    let ids: Vec<uuid::Uuid> = tally.placed.iter().map(|p| p.id).collect();
    let hops = hops::measure(&db, &ids, since_start).await?;
    let resent_requests = db.resent_requests(since_start).await?;
    drop(db);
    drop(run);
    let figures = report(
        &tally,
        &decisions,
        start,
        load_end,
        &backlog,
        resent_requests,
    );
    println!("   of which, hop by hop:");
    for (name, hop) in hops::HOPS.iter().zip(&hops) {
        println!(
            "     {name:<21} p50 {:>9}   p99 {:>9}",
            ms(hop.value_at_quantile(0.5) as f64 / 1000.0),
            ms(hop.value_at_quantile(0.99) as f64 / 1000.0)
        );
    }
    if !all_decided {
        println!("   NOT every order was decided within {} s", args.drain);
    }
    println!(
        "   CPU from the start of the load until the saga's first steps settled \
         ({settle_seconds:.1} s{}; payment-service's checkouts included):",
        if settled { "" } else { ", NOT settled" }
    );
    print_cpu(&cpu, tally.placed.len() as u64, Some(&idle));
    if let Pace::Rate(rate) = pace {
        let (p50, p99) = decided_quantiles(&tally, &decisions);
        let met = p50 <= PACED_P50_GOAL_MS && p99 <= PACED_P99_GOAL_MS && !decisions.is_empty();
        println!(
            "   goal at 100 orders/s offered (here {rate}): POST -> decided p50 <= \
             {PACED_P50_GOAL_MS} ms, p99 <= {PACED_P99_GOAL_MS} ms: {}",
            verdict(met)
        );
    }
    Ok(figures)
}

/// Every process of the stack, the Postgres backends serving it (not the bench's own
/// connections `db`) and the server's own processes, the broker and the bench itself.
fn watched(stack: &Stack, broker: &PrivateBroker, db: &Databases) -> Vec<Watched> {
    let mut watched: Vec<Watched> = BINARIES
        .iter()
        .filter_map(|name| {
            Some(Watched::Process {
                name: (*name).to_owned(),
                pid: stack.pid(name)?,
            })
        })
        .collect();
    for service in SERVICES {
        watched.push(Watched::Backends {
            name: format!("postgres: {service}'s db"),
            databases: vec![cpu::database_name(stack.database(service))],
            exclude: db.backends.clone(),
        });
    }
    watched.push(Watched::PostgresServer {
        name: "postgres server (shared)".into(),
    });
    if let Some(pid) = broker.pid() {
        watched.push(Watched::Process {
            name: "broker".into(),
            pid,
        });
    }
    watched.push(Watched::Process {
        name: "bench clients".into(),
        pid: std::process::id(),
    });
    watched
}
