//! `cargo xtask bench fetch`: what `kafka.fetch_wait_max_ms` costs and buys on the
//! broker at hand, in one run.
//!
//! For each wait (`BENCH_WAITS`, default `5,10,25,50,100,500` ms) a consumer with the
//! inbox's settings reads one topic with every partition assigned:
//! 1. Latency: `BENCH_MESSAGES` (default 40) records produced one at a time, each only
//!    after the previous one was consumed; produce → consume p50 and max.
//! 2. Idle cost: the consumer polls an empty topic for `BENCH_IDLE_SECONDS` (default
//!    5); CPU seconds per second of this process (the consumer's threads) and, when
//!    `BENCH_BROKER_PID` names the broker process, of the broker.
//!
//! Apache Kafka answers a fetch as soon as data arrives, so there latency does not
//! depend on the wait; tansu 0.6.0 holds every fetch for the whole wait.
//! Needs `KAFKA_BROKERS` (xtask sets it).
#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout)]

mod support;

use std::time::Duration;

use comanda_testkit::env_or;
use comanda_testkit::proc::cpu_seconds;
use rdkafka::producer::FutureProducer;
use rdkafka::Offset;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let brokers = comanda_kit::testing::kafka_brokers();
    let messages = env_or::<usize>("BENCH_MESSAGES", 40);
    let idle = Duration::from_secs(env_or::<u64>("BENCH_IDLE_SECONDS", 5));
    let waits: Vec<u64> = env_or::<String>("BENCH_WAITS", "5,10,25,50,100,500".into())
        .split(',')
        .map(|w| w.trim().parse())
        .collect::<Result<_, _>>()?;
    let broker_pid = std::env::var("BENCH_BROKER_PID").ok();
    println!("fetch-wait bench: broker {brokers}, {messages} messages per wait, {idle:?} idle");
    println!(
        "{:>8} {:>10} {:>10} {:>16} {:>16}",
        "wait ms", "p50 ms", "max ms", "consumer CPU/s", "broker CPU/s"
    );
    let producer: FutureProducer = comanda_outbox::kafka::producer_config(&brokers).create()?;
    for wait in waits {
        let topic = format!("bench-fetch-{}", uuid::Uuid::now_v7().simple());
        comanda_outbox::topics::ensure(&brokers, &[&topic]).await?;
        let every = 0..comanda_outbox::topics::PARTITIONS;
        let consumer = support::consumer(&brokers, &topic, wait, every, Offset::Beginning)?;
        // Let the consumer connect and start fetching before the clock starts.
        let _ = tokio::time::timeout(Duration::from_secs(2), consumer.recv()).await;

        let mut latencies = Vec::with_capacity(messages);
        for i in 0..messages {
            let key = i.to_string();
            latencies.push(support::round_trip(&producer, &consumer, &topic, None, &key).await?);
        }
        latencies.sort_by(f64::total_cmp);
        let p50 = latencies[latencies.len() / 2];
        let max = latencies[latencies.len() - 1];

        let (own, broker) = (cpu_seconds("self"), broker_pid.as_deref().map(cpu_seconds));
        let _ = tokio::time::timeout(idle, consumer.recv()).await;
        let own = (cpu_seconds("self") - own) / idle.as_secs_f64();
        let broker = broker
            .zip(broker_pid.as_deref())
            .map(|(before, pid)| format!("{:.3}", (cpu_seconds(pid) - before) / idle.as_secs_f64()))
            .unwrap_or_else(|| "-".into());
        println!("{wait:>8} {p50:>10.1} {max:>10.1} {own:>16.3} {broker:>16}");
    }
    Ok(())
}
