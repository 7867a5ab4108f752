//! The partitions of one consumer applied side by side.
//!
//! One receive loop applies what it received in one transaction ([`super::batch`]),
//! statement after statement: every round trip to Postgres waits for the one before,
//! and the next batch waits for the whole transaction and its commit. Under load the
//! consumer's queue, not Postgres, made an order's time in a service that takes many
//! statements per event (issue #15: order-service's hop was 2–3× product-service's).
//!
//! With `lanes` above 1 ([`super::InboxBuilder::lanes`]) what was received is split by
//! partition number into that many lanes, applied at the same time, each in a
//! transaction of its own on a connection of its own, with the batch policy of its
//! own (a lane that fails falls back to one by one without touching the others) and
//! its own offsets committed after its own commit. Order still holds where it is
//! promised: a key always lands on the same partition, so the messages of a key are in
//! one lane, in the order they arrived; and every topic has
//! [`crate::topics::PARTITIONS`] partitions filled by the same partitioner, so a key's
//! events on different topics share a partition number, hence a lane, too.
//!
//! What lanes do not make safe: handlers of messages about DIFFERENT keys that lock
//! the same rows (product-service's reservations share product rows) would wait on
//! each other's locks across lanes, and with several orders in each lane could
//! deadlock. Such an inbox keeps one lane (the default).

use rdkafka::consumer::StreamConsumer;
use rdkafka::message::{BorrowedMessage, Message};

use super::{Inbox, Outcome};

impl Inbox {
    /// Handles `messages` (received in this order) in [`InboxBuilder::lanes`] lanes by
    /// partition number, at the same time; outcomes in the order received.
    ///
    /// [`InboxBuilder::lanes`]: super::InboxBuilder::lanes
    pub(super) async fn handle_lanes<'c>(
        &self,
        consumer: &StreamConsumer,
        messages: Vec<BorrowedMessage<'c>>,
    ) -> Vec<Outcome> {
        let lanes = split(messages, self.lanes);
        if lanes.len() == 1 {
            let (_, messages) = &lanes[0];
            return self.handle_batch(consumer, messages).await;
        }
        let done = futures::future::join_all(
            lanes
                .iter()
                .map(|(_, messages)| self.handle_batch(consumer, messages)),
        )
        .await;
        let total = lanes.iter().map(|(positions, _)| positions.len()).sum();
        let mut outcomes = vec![Outcome::Processed; total];
        for ((positions, _), lane) in lanes.iter().zip(done) {
            for (position, outcome) in positions.iter().zip(lane) {
                outcomes[*position] = outcome;
            }
        }
        outcomes
    }
}

/// One lane: where each message stood among those received, and the messages.
type Lane<'c> = (Vec<usize>, Vec<BorrowedMessage<'c>>);

/// `messages` split into at most `lanes` non-empty lanes by partition number, each
/// keeping the order received.
fn split(messages: Vec<BorrowedMessage<'_>>, lanes: usize) -> Vec<Lane<'_>> {
    let lanes = lanes.max(1);
    let mut by_lane: Vec<Lane<'_>> = (0..lanes).map(|_| (Vec::new(), Vec::new())).collect();
    for (position, message) in messages.into_iter().enumerate() {
        let lane = lane_of(message.partition(), lanes);
        by_lane[lane].0.push(position);
        by_lane[lane].1.push(message);
    }
    by_lane.retain(|(positions, _)| !positions.is_empty());
    by_lane
}

/// The lane of partition number `partition` among `lanes`.
fn lane_of(partition: i32, lanes: usize) -> usize {
    partition.unsigned_abs() as usize % lanes
}

#[cfg(test)]
mod tests {
    use super::lane_of;

    #[test]
    fn a_partition_number_always_has_the_same_lane_and_lanes_spread_partitions() {
        assert_eq!(lane_of(0, 1), 0);
        assert_eq!(lane_of(2, 1), 0);
        let lanes: Vec<usize> = (0..6).map(|p| lane_of(p, 3)).collect();
        assert_eq!(lanes, [0, 1, 2, 0, 1, 2]);
        assert_eq!(lane_of(-1, 3), 1, "never out of range");
    }
}
