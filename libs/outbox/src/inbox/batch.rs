//! Applying the messages that are already waiting in one transaction.
//!
//! Each message in its own transaction costs one durable commit (a WAL flush) per
//! event, and that flush, not the work, was what limited a consumer under load
//! (issue #15: order-service's inbox applied ~200 messages/s while its Postgres
//! idled). So when several messages are buffered at once, they are applied in ONE
//! transaction, in the order they arrived (a partition's order holds), each still
//! deduped by its own `processed_messages` row, and their offsets are committed after
//! that transaction. Nothing waits to fill a batch: a message that arrives alone is
//! applied alone, at once, so a batch only forms when messages queue up anyway.
//!
//! Any failure in a batch — one undecodable message, a handler that refuses one, a
//! lost race, a sick database — rolls the whole batch back and its messages are
//! applied again one by one ([`Inbox::handle_message`]), with the single-message
//! policy: a poison message is dead-lettered alone, the others apply, a transient
//! failure is retried where it happened. What a failed batch did is undone, so no
//! message is applied twice.

use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::{Offset, TopicPartitionList};

use super::{decode_envelope, HandlerError, Inbox, Outcome};
use crate::envelope::Envelope;
use crate::schema::processed_messages;

impl Inbox {
    /// Handles `messages` (received in this order) and commits their offsets: in one
    /// transaction when there are several and all of them apply, else one by one.
    pub(super) async fn handle_batch(
        &self,
        consumer: &StreamConsumer,
        messages: &[BorrowedMessage<'_>],
    ) -> Vec<Outcome> {
        if messages.len() > 1 {
            match self.apply_together(messages).await {
                Ok(outcomes) => {
                    self.finish_batch(consumer, messages, &outcomes);
                    return outcomes;
                }
                Err(why) => {
                    tracing::debug!(consumer = %self.name, messages = messages.len(), %why, "batch rolled back; applying its messages one by one");
                    metrics::counter!("inbox_batch_fallbacks_total", "consumer" => self.name.clone())
                        .increment(1);
                }
            }
        }
        let mut outcomes = Vec::with_capacity(messages.len());
        for message in messages {
            outcomes.push(self.handle_message(consumer, message).await);
        }
        outcomes
    }

    /// Dedupe rows + effects of every message in ONE transaction; `Err` (with the
    /// reason, for the log) when anything fails, with nothing committed.
    async fn apply_together(
        &self,
        messages: &[BorrowedMessage<'_>],
    ) -> Result<Vec<Outcome>, String> {
        let mut work = Vec::with_capacity(messages.len());
        for message in messages {
            let event = decode_envelope(message)?;
            let handler = self
                .handlers
                .get(message.topic())
                .ok_or_else(|| format!("no handler for topic {}", message.topic()))?;
            work.push((message.topic(), event, handler));
        }
        let mut conn = self
            .pool
            .get()
            .await
            .map_err(|e| format!("no database connection: {e}"))?;
        let consumer = self.name.as_str();
        let work = &work;
        conn.transaction::<_, HandlerError, _>(async move |conn| {
            let mut outcomes = Vec::with_capacity(work.len());
            for (topic, event, handler) in work {
                outcomes.push(apply_one(conn, consumer, topic, event, handler.as_ref()).await?);
            }
            Ok(outcomes)
        })
        .await
        .map_err(|error| format!("{error:#}"))
    }

    /// After a batch committed: counts its messages and commits, per partition, the
    /// offset after its last message.
    fn finish_batch(
        &self,
        consumer: &StreamConsumer,
        messages: &[BorrowedMessage<'_>],
        outcomes: &[Outcome],
    ) {
        metrics::histogram!("inbox_batch_messages", "consumer" => self.name.clone())
            .record(messages.len() as f64);
        for (message, outcome) in messages.iter().zip(outcomes) {
            self.count(message, *outcome);
        }
        if let Err(error) = consumer.commit(&next_offsets(messages), CommitMode::Async) {
            // As for one message: the effects are committed; a lost offset commit
            // only means redeliveries that dedupe absorbs.
            tracing::warn!(consumer = %self.name, %error, "offset commit failed");
        }
        self.handled
            .fetch_add(messages.len() as u64, std::sync::atomic::Ordering::Relaxed);
    }
}

/// One message inside a transaction: its dedupe row, then, when it is new, its effect.
pub(super) async fn apply_one(
    conn: &mut diesel_async::AsyncPgConnection,
    consumer: &str,
    topic: &str,
    event: &Envelope,
    handler: &dyn super::Handler,
) -> Result<Outcome, HandlerError> {
    let fresh = diesel::insert_into(processed_messages::table)
        .values((
            processed_messages::consumer.eq(consumer),
            processed_messages::event_id.eq(event.id),
            processed_messages::topic.eq(topic),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    if fresh == 0 {
        return Ok(Outcome::Duplicate);
    }
    handler.handle(event, conn).await?;
    Ok(Outcome::Processed)
}

/// The offset to commit for each partition of `messages`: the one after its last
/// message (messages of a partition arrive in offset order).
fn next_offsets(messages: &[BorrowedMessage<'_>]) -> TopicPartitionList {
    let mut list = TopicPartitionList::new();
    for message in messages {
        let (topic, partition) = (message.topic(), message.partition());
        let next = Offset::Offset(message.offset() + 1);
        // A later message of the partition moves the partition's entry on.
        let _ = if list.find_partition(topic, partition).is_some() {
            list.set_partition_offset(topic, partition, next)
        } else {
            list.add_partition_offset(topic, partition, next)
        };
    }
    list
}
