//! Noticing a consumer that has stopped consuming.
//!
//! A consumer can be connected, in its group and healthy by every client-side measure,
//! and still receive nothing: tansu 0.6.0's coordinator, for one, makes a dead member
//! the leader of the next generation, so the live member syncs to an empty assignment
//! and no rebalance ever follows (README, "The broker"). Any broker can lose a group in
//! some such way, so the inbox does not trust the group protocol to recover: it looks
//! at what the group has to do from the outside.
//!
//! Every few seconds a probe — a client with the group's id that never joins it —
//! reads the group's committed offsets and the partitions' high watermarks. If the
//! group has lag and neither its committed offsets nor this inbox have moved for the
//! stall timeout, the consumer is stalled, whatever the reason: it holds partitions it
//! does not fetch, or it holds none while nobody else makes progress either. The inbox
//! then tears its consumer down and joins again with a new one. A dynamic member
//! leaves the group on the way, which forces a new generation with a live leader; a
//! static member (the services run as one, see [`super::InboxBuilder::instance_id`])
//! comes back as itself and fetches afresh.
//!
//! A message being retried (a sick database) is not a consumer stall: the inbox does
//! not look while it handles one, and reports that stall itself.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaResult;
use rdkafka::{Offset, TopicPartitionList};

/// How long one probe request may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// What the group has left to do at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Snapshot {
    /// Committed offset per partition (`-1` when the group has none), in a fixed order.
    committed: Vec<i64>,
    /// Messages between the committed offsets and the high watermarks.
    lag: i64,
}

/// What the watchdog concluded from one look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Nothing to do, or progress being made.
    Healthy,
    /// Lag (`None`: the group's offsets could not be read) and no progress for `for_`;
    /// below the stall timeout.
    Waiting { lag: Option<i64>, for_: Duration },
    /// Lag (or unreadable offsets) and no progress for at least the stall timeout:
    /// rebuild the consumer.
    Stalled { lag: Option<i64>, for_: Duration },
}

/// Watches one consumer group for lag without progress.
pub(super) struct Watchdog {
    probe: Arc<BaseConsumer>,
    topics: Vec<String>,
    stall_timeout: Duration,
    last: Option<Snapshot>,
    progress_at: Instant,
    handled_seen: u64,
}

impl Watchdog {
    /// A watchdog for `probe`'s group over `topics`.
    pub(super) fn new(probe: BaseConsumer, topics: Vec<String>, stall_timeout: Duration) -> Self {
        Self {
            probe: Arc::new(probe),
            topics,
            stall_timeout,
            last: None,
            progress_at: Instant::now(),
            handled_seen: 0,
        }
    }

    /// How often to look: often enough to notice within the timeout, never busily.
    pub(super) fn interval(&self) -> Duration {
        (self.stall_timeout / 4).clamp(Duration::from_millis(200), Duration::from_secs(5))
    }

    /// Starts the no-progress clock again (after a rebuild: the new consumer gets a
    /// full timeout to show progress).
    pub(super) fn restart_clock(&mut self) {
        self.progress_at = Instant::now();
    }

    /// Looks once. `handled` is how many messages the inbox has finished so far.
    pub(super) async fn look(&mut self, handled: u64) -> Verdict {
        let probe = Arc::clone(&self.probe);
        let topics = self.topics.clone();
        // librdkafka's offset and watermark calls block their thread.
        let measured = tokio::task::spawn_blocking(move || measure(&probe, &topics)).await;
        let now = Instant::now();
        let snapshot = match measured {
            Ok(Ok(snapshot)) => Some(snapshot),
            Ok(Err(error)) => {
                tracing::debug!(%error, "watchdog could not read the group's offsets");
                None
            }
            Err(error) => {
                tracing::warn!(%error, "watchdog probe panicked");
                None
            }
        };
        // A group whose offsets cannot be read (tansu answers OffsetFetch with an error
        // while a group is stuck forming) is no evidence of progress: only a message
        // this inbox finished is. A broker that is down long enough gets the consumer
        // rebuilt too, which costs a rejoin and nothing else.
        let handled_moved = handled != self.handled_seen;
        self.handled_seen = handled;
        let lag = match snapshot {
            Some(snapshot) => {
                // Progress is what the group has done: its committed offsets, or a
                // message this inbox finished. New messages arriving (the lag growing)
                // are not progress, or a stalled group under steady traffic would never
                // look stalled.
                let moved = self.last.as_ref().map(|last| &last.committed)
                    != Some(&snapshot.committed)
                    || handled_moved;
                let lag = snapshot.lag;
                self.last = Some(snapshot);
                if lag == 0 || moved {
                    self.progress_at = now;
                    return Verdict::Healthy;
                }
                Some(lag)
            }
            None if handled_moved => {
                self.progress_at = now;
                return Verdict::Healthy;
            }
            None => None,
        };
        let for_ = now.duration_since(self.progress_at);
        if for_ >= self.stall_timeout {
            Verdict::Stalled { lag, for_ }
        } else {
            Verdict::Waiting { lag, for_ }
        }
    }
}

/// Reads the committed offsets of the probe's group and the high watermarks of every
/// partition of `topics`.
fn measure(probe: &BaseConsumer, topics: &[String]) -> KafkaResult<Snapshot> {
    let mut partitions = TopicPartitionList::new();
    for topic in topics {
        let metadata = probe.fetch_metadata(Some(topic), PROBE_TIMEOUT)?;
        for found in metadata.topics() {
            for partition in found.partitions() {
                partitions.add_partition(found.name(), partition.id());
            }
        }
    }
    let committed = probe.committed_offsets(partitions, PROBE_TIMEOUT)?;
    let mut snapshot = Snapshot {
        committed: Vec::new(),
        lag: 0,
    };
    for element in committed.elements() {
        let (low, high) =
            probe.fetch_watermarks(element.topic(), element.partition(), PROBE_TIMEOUT)?;
        let (recorded, start) = match element.offset() {
            Offset::Offset(offset) => (offset, offset),
            // No commit yet: a new group reads from the earliest message.
            _ => (-1, low),
        };
        snapshot.committed.push(recorded);
        snapshot.lag += (high - start).max(0);
    }
    Ok(snapshot)
}
