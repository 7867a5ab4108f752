//! `--orders N`: the soak. Does an order cost the same at the millionth as at the
//! ten-thousandth? One stack, orders offered at `--rate` by `--clients` clients until N
//! were offered, with a checkpoint at 10k, 100k and 1M (those below N) and at N. At each
//! checkpoint the load pauses while the bench waits for the window's orders to be
//! decided and reads: POST → decided p50/p99 of the orders placed since the previous
//! checkpoint, and the rows and on-disk size of the tables that must not grow without
//! bound — every service's `outbox` and `processed_messages` (kept for the relay's
//! retention, `--retention` seconds here, so a run of minutes shows them level off) —
//! and of `orders`, which grows by design. Goal: p99 at the last checkpoint ≤ 1.5 × p99
//! at the first. Each window's CPU per order by process (the pauses included) says
//! which process's cost grew.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use e2e::stack::SERVICES;

use uuid::Uuid;

use crate::cpu::Sample;
use crate::load::{Pace, Tally};
use crate::observe::{Databases, Decision};
use crate::report::{decided_quantiles, ms, print_cpu, verdict};
use crate::setup;

/// Where the soak stops to measure, besides its end.
const CHECKPOINTS: [u64; 3] = [10_000, 100_000, 1_000_000];
/// p99 at the last checkpoint over p99 at the first.
const GROWTH_GOAL: f64 = 1.5;

/// What the soak reads at one checkpoint.
struct Checkpoint {
    offered: u64,
    placed: usize,
    decided: usize,
    p50: f64,
    p99: f64,
    sizes: Vec<(&'static str, i64, i64)>,
}

/// Runs the soak and prints a row per checkpoint.
pub async fn run(
    launch: &setup::Launch,
    (clients, customers): (usize, usize),
    products: usize,
    rate: u64,
    orders: u64,
    patience: Duration,
    retention: Duration,
) -> anyhow::Result<()> {
    anyhow::ensure!(rate > 0, "the soak needs --rate above 0");
    println!(
        "\n== soak: {orders} orders offered at {rate} orders/s by {clients} clients as \
         {customers} customers; outbox and inbox rows kept {} s ==",
        retention.as_secs()
    );
    let run = setup::Run::start_with(
        launch,
        (clients, customers),
        products,
        relay_retention(retention),
    )
    .await?;
    let db = Databases::connect(&run.stack).await?;
    let autovacuum: String = db
        .of("order-service")
        .query_one("SHOW autovacuum", &[])
        .await?
        .get(0);
    println!("   Postgres autovacuum: {autovacuum}");
    if autovacuum != "on" {
        println!(
            "   (off: no table is vacuumed or analyzed, so every update and delete leaves its \
             dead row behind and sizes grow whatever the retention; production Postgres runs it)"
        );
    }
    let watched = crate::watched(&run.stack, &run.broker, &db);
    let mut marks: Vec<u64> = CHECKPOINTS.into_iter().filter(|&c| c < orders).collect();
    marks.push(orders);
    let mut rows = Vec::new();
    let mut offered = 0;
    for (window, mark) in marks.into_iter().enumerate() {
        let length = Duration::from_secs_f64((mark - offered) as f64 / rate as f64);
        let before = Sample::now(&watched);
        let (tally, mut decisions) = window_of(&run, &db, window, rate, length, retention).await?;
        offered = mark;
        db.wait_decided(patience).await?;
        decisions.extend(db.decisions(SystemTime::now() - length).await?);
        let (p50, p99) = decided_quantiles(&tally, &decisions);
        let decided = tally
            .placed
            .iter()
            .filter(|p| decisions.contains_key(&p.id))
            .count();
        let checkpoint = Checkpoint {
            offered,
            placed: tally.placed.len(),
            decided,
            p50,
            p99,
            sizes: sizes(&db).await?,
        };
        print_row(&checkpoint);
        println!("   CPU per order of the window, its drain included:");
        print_cpu(
            &Sample::now(&watched).since(&before),
            checkpoint.placed as u64,
            None,
        );
        rows.push(checkpoint);
    }
    if let (Some(first), Some(last)) = (rows.first(), rows.last()) {
        let growth = last.p99 / first.p99.max(0.001);
        println!(
            "   p99 at {} over p99 at {}: {growth:.2} (goal <= {GROWTH_GOAL}) {}",
            last.offered,
            first.offered,
            verdict(growth <= GROWTH_GOAL)
        );
    }
    Ok(())
}

/// Offers `length` of load at `rate` in chunks, reading after each chunk the decisions
/// made so far: a decision's time is its stock reply's inbox row, which the relay's
/// retention deletes `retention` after it, so it is read well before.
async fn window_of(
    run: &setup::Run,
    db: &Databases,
    window: usize,
    rate: u64,
    length: Duration,
    retention: Duration,
) -> anyhow::Result<(Tally, HashMap<Uuid, Decision>)> {
    let chunk = (retention / 3).clamp(Duration::from_secs(10), Duration::from_secs(120));
    let mut tally = Tally::default();
    let mut decided = HashMap::new();
    let mut left = length;
    let mut part = 0;
    while !left.is_zero() {
        let this = left.min(chunk);
        let start = SystemTime::now() - Duration::from_secs(1);
        let load = run.load(&format!("soak{window}-{part}"));
        tally.extend(load.run(Pace::Rate(rate), this).await);
        // The previous chunk's last orders were decided during this one.
        decided.extend(db.decisions(start - chunk).await?);
        left -= this;
        part += 1;
    }
    Ok((tally, decided))
}

/// The relay's retention set to `retention` for both tables, applied every tenth of it
/// (a minute at most), so the tables level off at about `rate × retention` rows each.
fn relay_retention(retention: Duration) -> Vec<(String, String, String)> {
    let secs = retention.as_secs().max(1);
    let every_ms = (secs * 100).min(60_000);
    [
        ("PUBLISHED_RETENTION_SECS", secs.to_string()),
        ("PROCESSED_RETENTION_SECS", secs.to_string()),
        ("RETENTION_INTERVAL_MS", every_ms.to_string()),
    ]
    .into_iter()
    .map(|(key, value)| {
        let var = format!("COMANDA__RELAY__{key}");
        ("outbox-relay".to_owned(), var, value)
    })
    .collect()
}

fn print_row(c: &Checkpoint) {
    let sizes: Vec<String> = c
        .sizes
        .iter()
        .map(|(table, rows, bytes)| format!("{table} {rows} rows / {:.1} MB", *bytes as f64 / 1e6))
        .collect();
    println!(
        "   at {:>9} offered: window {} placed, {} decided; POST -> decided p50 {} p99 {}; {}",
        c.offered,
        c.placed,
        c.decided,
        ms(c.p50),
        ms(c.p99),
        sizes.join(", ")
    );
}

/// Rows and bytes (with indexes and TOAST) of every service's outbox and
/// processed_messages, summed, and of order-service's orders.
async fn sizes(db: &Databases) -> anyhow::Result<Vec<(&'static str, i64, i64)>> {
    let mut totals = vec![("outbox", 0, 0), ("processed_messages", 0, 0)];
    for service in SERVICES {
        for total in &mut totals {
            let (rows, bytes) = table(db, service, total.0).await?;
            total.1 += rows;
            total.2 += bytes;
        }
    }
    let (rows, bytes) = table(db, "order-service", "orders").await?;
    totals.push(("orders", rows, bytes));
    Ok(totals)
}

async fn table(db: &Databases, service: &str, table: &str) -> anyhow::Result<(i64, i64)> {
    // `table` is one of this file's constants, never input.
    let row = db
        .of(service)
        .query_one(
            &format!("SELECT count(*), pg_total_relation_size('{table}') FROM {table}"),
            &[],
        )
        .await?;
    Ok((row.get(0), row.get(1)))
}
