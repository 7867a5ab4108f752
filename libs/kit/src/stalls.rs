//! The stall board: where background workers say that they are stuck, so `/ready` can.
//!
//! A consumer waiting out a sick database, a consumer that gets no messages while its
//! group has lag, a saga deadline worker that cannot fire: none of them crash, so
//! nothing outside the process would notice. Each writes a line here while the stall
//! lasts and removes it when it is over; [`crate::health::Readiness`] reports every
//! line as a failed check. One board per application (not a global), so tests that run
//! several applications in one process see only their own stalls.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

/// One ongoing stall.
#[derive(Debug, Clone)]
struct Stall {
    reason: String,
    since: Instant,
}

/// A cheap, cloneable handle on one application's stall board.
#[derive(Debug, Clone, Default)]
pub struct Stalls {
    entries: Arc<Mutex<BTreeMap<String, Stall>>>,
}

impl Stalls {
    /// An empty board.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records (or updates the reason of) the stall of `worker`. The time it started is
    /// kept from the first call, so the report says how long it has lasted.
    pub fn set(&self, worker: &str, reason: impl Into<String>) {
        let reason = reason.into();
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .entry(worker.to_owned())
            .and_modify(|stall| stall.reason.clone_from(&reason))
            .or_insert_with(|| Stall {
                reason,
                since: Instant::now(),
            });
    }

    /// The stall of `worker` is over.
    pub fn clear(&self, worker: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.remove(worker);
    }

    /// True when `worker` is stalled.
    pub fn is_stalled(&self, worker: &str) -> bool {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.contains_key(worker)
    }

    /// Every ongoing stall as `(worker, "reason (for 12s)")`, sorted by worker.
    pub fn report(&self) -> Vec<(String, String)> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .iter()
            .map(|(worker, stall)| {
                let seconds = stall.since.elapsed().as_secs();
                (worker.clone(), format!("{} (for {seconds}s)", stall.reason))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stall_is_reported_until_it_is_cleared() {
        let stalls = Stalls::new();
        stalls.set("inbox:orders", "database read-only");
        stalls.set("inbox:orders", "disk full");
        let report = stalls.report();
        assert_eq!(report.len(), 1);
        assert_eq!(report[0].0, "inbox:orders");
        assert!(report[0].1.starts_with("disk full (for "), "{report:?}");
        stalls.clear("inbox:orders");
        assert!(stalls.report().is_empty());
        assert!(!stalls.is_stalled("inbox:orders"));
    }

    #[test]
    fn clones_share_one_board() {
        let stalls = Stalls::new();
        stalls.clone().set("deadlines", "overdue");
        assert!(stalls.is_stalled("deadlines"));
    }
}
