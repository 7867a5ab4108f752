//! What a run prints: rates, latencies, the backlog and CPU per order.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;
use uuid::Uuid;

use crate::cpu::Used;
use crate::load::Tally;
use crate::observe::{Backlog, Decision};

/// One e2e run's figures, for the ratio and the summary.
pub struct Figures {
    pub accepted_per_s: f64,
    pub decided_during_per_s: f64,
    pub overall_per_s: f64,
}

/// Prints the run's rates, latencies and backlog; returns the rates.
pub fn report(
    tally: &Tally,
    decisions: &HashMap<Uuid, Decision>,
    start: SystemTime,
    load_end: SystemTime,
    backlog: &Backlog,
    resent_requests: i64,
) -> Figures {
    let seconds = since(start, load_end).as_secs_f64();
    let placed = tally.placed.len();
    let mut post = histogram();
    let mut statuses = std::collections::BTreeMap::<&str, u64>::new();
    let (mut during, mut decided, mut last) = (0u64, 0u64, start);
    for order in &tally.placed {
        post.saturating_record(order.post.as_micros() as u64);
        let Some(decision) = decisions.get(&order.id) else {
            continue;
        };
        decided += 1;
        *statuses.entry(decision.status.as_str()).or_default() += 1;
        if decision.at <= load_end {
            during += 1;
        }
        last = last.max(decision.at);
    }
    let refused: Vec<String> = tally
        .refused
        .iter()
        .map(|(s, n)| format!("{n} x {s}"))
        .collect();
    let accepted_per_s = placed as f64 / seconds;
    let decided_during_per_s = during as f64 / seconds;
    let overall_per_s = decided as f64 / since(start, last).as_secs_f64().max(0.001);
    let (p50, p99) = decided_quantiles(tally, decisions);
    println!(
        "   accepted: {placed} orders in {seconds:.1} s = {accepted_per_s:.0} orders/s (refused: {}; resent: {}; \
         shed, sent again after Retry-After: {})",
        if refused.is_empty() { "none".to_owned() } else { refused.join(", ") },
        tally.resent,
        tally.shed
    );
    println!(
        "   decided during the load: {during} = {decided_during_per_s:.0} orders/s ({:.2} of intake)",
        during as f64 / placed.max(1) as f64
    );
    println!(
        "   decided overall: {decided} of {placed} ({statuses:?}), the last {:.1} s after the start = {overall_per_s:.0} orders/s",
        since(start, last).as_secs_f64()
    );
    println!("   stock requests sent again by their deadline: {resent_requests}");
    println!(
        "   POST latency            p50 {:>9}   p99 {:>9}",
        ms(post.value_at_quantile(0.5) as f64 / 1000.0),
        ms(post.value_at_quantile(0.99) as f64 / 1000.0)
    );
    println!(
        "   POST -> decided         p50 {:>9}   p99 {:>9}",
        ms(p50),
        ms(p99)
    );
    println!("   backlog when the load ended: {}", backlog.describe());
    Figures {
        accepted_per_s,
        decided_during_per_s,
        overall_per_s,
    }
}

/// POST → decided p50 and p99 in ms, over the decided orders.
pub fn decided_quantiles(tally: &Tally, decisions: &HashMap<Uuid, Decision>) -> (f64, f64) {
    let mut latency = histogram();
    for order in &tally.placed {
        if let Some(decision) = decisions.get(&order.id) {
            latency.saturating_record(since(order.sent, decision.at).as_micros() as u64);
        }
    }
    let quantile = |q| latency.value_at_quantile(q) as f64 / 1000.0;
    (quantile(0.5), quantile(0.99))
}

/// CPU per order by process, the costliest first, and the machine's. With `idle` (the
/// same processes sampled while nothing was ordered), each line also says what the
/// process burns idle (polling: fetch waits, deadline workers, the relay's fallback
/// poll) and what is left per order net of that.
pub fn print_cpu(used: &Used, orders: u64, idle: Option<&Used>) {
    let per_order = |seconds: f64| seconds * 1000.0 / orders.max(1) as f64;
    let idle_rate = |name: &str| {
        let idle = idle?;
        let (_, seconds) = idle.seconds.iter().find(|(n, _)| n == name)?;
        Some(seconds / idle.wall.max(0.001))
    };
    let mut rows: Vec<(String, f64, Option<f64>)> = used
        .seconds
        .iter()
        .map(|(name, seconds)| {
            let rate = idle_rate(name);
            let net = rate.map(|r| (seconds - r * used.wall).max(0.0));
            (name.clone(), *seconds, net)
        })
        .collect();
    rows.sort_by(|a, b| b.2.unwrap_or(b.1).total_cmp(&a.2.unwrap_or(a.1)));
    for (name, seconds, net) in rows {
        let idle = match (idle_rate(&name), net) {
            (Some(rate), Some(net)) => format!(
                "; idle {:>4.0}% of a core; net of idle {:>7.3} ms per order",
                rate * 100.0,
                per_order(net)
            ),
            _ => String::new(),
        };
        println!(
            "     {name:<32} {:>7.3} ms CPU per order ({seconds:>6.1} s){idle}",
            per_order(seconds)
        );
    }
    println!(
        "     {:<32} {:>7.3} ms CPU per order ({:>6.1} s; CPUs {:.0}% busy, other work on the machine included)",
        "machine",
        per_order(used.machine_seconds),
        used.machine_seconds,
        used.busy * 100.0
    );
}

/// Microseconds from 1 µs to an hour, 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("a histogram")
}

pub fn since(earlier: SystemTime, later: SystemTime) -> Duration {
    later.duration_since(earlier).unwrap_or_default()
}

/// "12.3 ms", or "4.20 s" from 10 s up.
pub fn ms(ms: f64) -> String {
    if ms >= 10_000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        format!("{ms:.1} ms")
    }
}

pub fn verdict(ok: bool) -> &'static str {
    if ok {
        "MET"
    } else {
        "MISSED"
    }
}

/// The machine's load average, to read the figures against (it is shared).
pub fn load_average() -> String {
    let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let fields: Vec<&str> = loadavg.split_whitespace().take(3).collect();
    format!("load average before: {}", fields.join(" "))
}
