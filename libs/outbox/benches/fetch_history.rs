//! `cargo xtask bench fetch-history`: whether what the broker spends to hand a consumer
//! one new record depends on how many record batches its partition already holds.
//!
//! On Apache Kafka it does not (a fetch seeks by offset index). tansu 0.6.0's memory
//! storage (`dynostore` over an in-memory object store) lists every batch object of a
//! partition on each fetch that finds new data, so there the cost grows with the
//! partition's history: a system that keeps running gets slower on it, whatever its
//! own code does (README, "The broker").
//!
//! One partition of a fresh topic is filled in steps to each history of `BENCH_HISTORY`
//! batches (default `0,5000,20000,50000`; one record per batch, as the relay's sends at
//! a steady rate mostly are). At each step an inbox-like consumer reading from the end
//! (fetch wait `BENCH_FETCH_WAIT_MS`, default 10) receives `BENCH_MESSAGES` (default 200)
//! records produced one at a time, each after the previous was consumed: produce →
//! consume p50 and p99, and the broker's CPU per record when `BENCH_BROKER_PID` names it
//! (xtask sets it). Then the same consumer idles 3 s (fetches that find nothing): the
//! broker's CPU per second. Needs `KAFKA_BROKERS` (xtask sets it).
#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout)]

mod support;

use std::time::{Duration, Instant};

use comanda_testkit::env_or;
use comanda_testkit::proc::cpu_seconds;
use futures::future::try_join_all;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::Offset;

/// Records in flight while filling a partition.
const FILL_WINDOW: usize = 500;
/// How long the consumer idles at each step.
const IDLE: Duration = Duration::from_secs(3);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let brokers = comanda_kit::testing::kafka_brokers();
    let messages = env_or::<usize>("BENCH_MESSAGES", 200);
    let wait_ms = env_or::<u64>("BENCH_FETCH_WAIT_MS", 10);
    let histories: Vec<usize> = env_or::<String>("BENCH_HISTORY", "0,5000,20000,50000".into())
        .split(',')
        .map(|h| h.trim().parse())
        .collect::<Result<_, _>>()?;
    let broker = std::env::var("BENCH_BROKER_PID").ok();
    let topic = format!("bench-history-{}", uuid::Uuid::now_v7().simple());
    comanda_outbox::topics::ensure(&brokers, &[&topic]).await?;
    println!(
        "fetch-history bench: broker {brokers}, topic {topic} partition 0, fetch wait \
         {wait_ms} ms, {messages} records per step"
    );
    println!(
        "{:>9} {:>9} {:>9} {:>22} {:>20}",
        "batches", "p50 ms", "p99 ms", "broker CPU per record", "broker CPU idle"
    );
    let filler = filler(&brokers)?;
    let producer: FutureProducer = comanda_outbox::kafka::producer_config(&brokers).create()?;
    let mut held = 0;
    for history in histories {
        fill(&filler, &topic, history.saturating_sub(held)).await?;
        held = held.max(history);
        let consumer = support::consumer(&brokers, &topic, wait_ms, 0..1, Offset::End)?;
        // Let the consumer reach the end and start fetching before the clock starts.
        let _ = tokio::time::timeout(Duration::from_secs(2), consumer.recv()).await;

        let broker_before = broker.as_deref().map(cpu_seconds);
        let mut latencies = Vec::with_capacity(messages);
        for i in 0..messages {
            let key = format!("probe-{held}-{i}");
            latencies.push(support::round_trip(&producer, &consumer, &topic, Some(0), &key).await?);
        }
        held += messages;
        let per_record = per(
            broker.as_deref(),
            broker_before,
            messages as f64,
            1000.0,
            "ms",
        );

        let broker_before = broker.as_deref().map(cpu_seconds);
        let _ = tokio::time::timeout(IDLE, consumer.recv()).await;
        let idle = per(
            broker.as_deref(),
            broker_before,
            IDLE.as_secs_f64(),
            1.0,
            "core",
        );

        latencies.sort_by(f64::total_cmp);
        let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
        println!(
            "{history:>9} {:>9.1} {:>9.1} {per_record:>22} {idle:>20}",
            at(0.5),
            at(0.99)
        );
    }
    Ok(())
}

/// The broker's CPU since `before`, divided by `count`, times `scale`, with `unit`;
/// `-` without a broker pid.
fn per(broker: Option<&str>, before: Option<f64>, count: f64, scale: f64, unit: &str) -> String {
    match (broker, before) {
        (Some(pid), Some(before)) => {
            format!("{:.3} {unit}", (cpu_seconds(pid) - before) / count * scale)
        }
        _ => "-".to_owned(),
    }
}

/// A producer that puts every record in a batch of its own, as a relay sending one
/// order's event at a time does.
fn filler(brokers: &str) -> anyhow::Result<FutureProducer> {
    let mut config = comanda_outbox::kafka::producer_config(brokers);
    config.set("batch.num.messages", "1").set("linger.ms", "0");
    Ok(config.create()?)
}

/// Adds `batches` one-record batches to partition 0 of `topic`.
async fn fill(producer: &FutureProducer, topic: &str, batches: usize) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut sent = 0;
    while sent < batches {
        let window = FILL_WINDOW.min(batches - sent);
        try_join_all((0..window).map(|i| {
            let key = format!("fill-{}", sent + i);
            async move {
                producer
                    .send(
                        FutureRecord::to(topic).partition(0).key(&key).payload("x"),
                        Duration::from_secs(30),
                    )
                    .await
                    .map_err(|(e, _)| e)
            }
        }))
        .await?;
        sent += window;
    }
    if batches > 0 {
        println!(
            "  (filled {batches} batches in {:.1} s)",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
