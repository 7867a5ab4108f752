//! The faults: SIGKILL a process and start it again on the same port with the same
//! environment (as a supervisor would), or SIGSTOP the broker for 5–10 s and SIGCONT
//! it; half the pauses also kill a service while the broker is frozen, the way the
//! consumer stall of issue 11 was first seen (a group member dies mid-rebalance).
//!
//! The schedule is drawn from the seed before the load starts: one fault every `every`
//! seconds (7 by default; at least 8 faults), every fourth a broker pause, the others kills cycling through the
//! targets in a shuffled order so each is hit; so 60 s give 6 kills and 2 pauses (and
//! half the pauses kill one more), enough to hit each of the five targets.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use comanda_testkit::broker::PrivateBroker;
use e2e::stack::Stack;
use nix::sys::signal::Signal;

use crate::rng::Rng;

/// The processes the suite kills. auth-service and the gateway are left alone: the
/// customers' way in must stay open for the load to mean anything. So is the sandbox
/// provider: it keeps its sessions in memory, and a card processor does not lose its
/// charges when a merchant's service dies.
pub const TARGETS: [&str; 5] = [
    "outbox-relay",
    "order-service",
    "product-service",
    "user-service",
    "payment-service",
];

/// One planned fault.
#[derive(Debug, Clone)]
pub enum Fault {
    /// SIGKILL the process, wait `down`, start it again.
    Kill {
        /// Which process.
        target: &'static str,
        /// How long it stays dead.
        down: Duration,
    },
    /// SIGSTOP the broker for `stopped`; with `kill`, that process is SIGKILLed while
    /// the broker is frozen and started again once it runs.
    PauseBroker {
        /// How long the broker stays stopped.
        stopped: Duration,
        /// A process killed during the pause.
        kill: Option<&'static str>,
    },
}

/// Faults, one per `every` seconds of a `seconds` long load (at least 8), and when they
/// start, counted from the start of the load.
pub fn plan(rng: &mut Rng, seconds: u64, every: u64) -> Vec<(Duration, Fault)> {
    let count = (seconds / every.max(1)).max(8);
    let spacing = Duration::from_secs(seconds) / count as u32;
    let mut targets = Vec::new();
    let mut faults = Vec::new();
    for i in 0..count {
        let jitter = Duration::from_millis(rng.between(0, spacing.as_millis() as u64 / 2));
        let at = Duration::from_secs(2) + spacing * i as u32 + jitter;
        let mut next_target = |rng: &mut Rng| {
            if targets.is_empty() {
                targets = TARGETS.to_vec();
                rng.shuffle(&mut targets);
            }
            targets.pop().expect("refilled")
        };
        let fault = if i % 4 == 3 {
            let kill = rng.chance(50).then(|| next_target(rng));
            Fault::PauseBroker {
                stopped: Duration::from_millis(rng.between(5_000, 10_000)),
                kill,
            }
        } else {
            Fault::Kill {
                target: next_target(rng),
                down: Duration::from_millis(rng.between(0, 1_500)),
            }
        };
        faults.push((at, fault));
    }
    faults
}

/// What the faults did.
#[derive(Debug, Default)]
pub struct Record {
    /// SIGKILLs per process.
    pub kills: BTreeMap<&'static str, u64>,
    /// Broker pauses.
    pub pauses: u64,
    /// Total time the broker was stopped.
    pub paused: Duration,
    /// The longest a killed process took to answer `/ready` again.
    pub slowest_restart: Duration,
    /// Processes that did not come back (each a violation).
    pub failed_restarts: Vec<String>,
}

impl Record {
    /// Every SIGKILL.
    pub fn total_kills(&self) -> u64 {
        self.kills.values().sum()
    }
}

/// Runs `faults` against `stack` and `broker`, each at its time from `start` (or
/// right after the previous one, if that took longer).
pub async fn run(
    stack: &mut Stack,
    broker: &PrivateBroker,
    faults: &[(Duration, Fault)],
    start: Instant,
) -> Record {
    let mut record = Record::default();
    for (at, fault) in faults {
        tokio::time::sleep_until((start + *at).into()).await;
        let since = start.elapsed().as_secs_f64();
        match fault {
            Fault::Kill { target, down } => {
                println!("chaos: {since:6.1}s SIGKILL {target} (down {down:?})");
                kill(stack, target, &mut record);
                tokio::time::sleep(*down).await;
                restart(stack, target, &mut record).await;
            }
            Fault::PauseBroker {
                stopped,
                kill: victim,
            } => {
                println!("chaos: {since:6.1}s SIGSTOP broker for {stopped:?}");
                broker.signal(Signal::SIGSTOP);
                record.pauses += 1;
                let paused = Instant::now();
                if let Some(target) = victim {
                    tokio::time::sleep(*stopped / 3).await;
                    println!("chaos:          SIGKILL {target} while the broker is stopped");
                    kill(stack, target, &mut record);
                }
                tokio::time::sleep(stopped.saturating_sub(paused.elapsed())).await;
                broker.signal(Signal::SIGCONT);
                record.paused += paused.elapsed();
                if let Some(target) = victim {
                    restart(stack, target, &mut record).await;
                }
            }
        }
    }
    record
}

fn kill(stack: &mut Stack, target: &'static str, record: &mut Record) {
    stack.kill(target);
    *record.kills.entry(target).or_default() += 1;
}

async fn restart(stack: &mut Stack, target: &str, record: &mut Record) {
    let started = Instant::now();
    match stack.launch(target).await {
        Ok(()) => record.slowest_restart = record.slowest_restart.max(started.elapsed()),
        Err(error) => {
            println!("chaos: {error}");
            record.failed_restarts.push(error);
        }
    }
}
