//! Applying one message until it is applied, found to be a duplicate, or found to be
//! a message that can never succeed — and saying so on the stall board meanwhile.

use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};
use diesel_async::AsyncConnection;
use rdkafka::message::{BorrowedMessage, Message};

use super::batch::apply_one;
use super::{HandlerError, Inbox, Outcome};
use crate::envelope::Envelope;

/// How many conflicts in a row are retried with no delay before backing off: a hot
/// spot contended by many transactions should not become a busy loop.
const IMMEDIATE_CONFLICT_RETRIES: u32 = 3;

/// What to do after one failed attempt.
enum Failure {
    /// Retry after the backoff delay.
    Retry(String),
    /// Retry at once (a lost race).
    Conflict(String),
    /// Never succeeds: dead-letter it.
    DeadLetter(String),
}

/// Capped exponential backoff without an end: `first`, doubling, never above `max`.
fn retry_delays(first: Duration, max: Duration) -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_min_delay(first)
        .with_max_delay(max)
        .without_max_times()
        .build()
}

impl Inbox {
    /// Applies `event` until it sticks. Never gives up on a message that may succeed
    /// later: it is retried for as long as it takes, with the stall reported while it
    /// lasts (the partition behind it waits, which keeps per-key order).
    pub(super) async fn apply_until_done(
        &self,
        message: &BorrowedMessage<'_>,
        event: &Envelope,
    ) -> Outcome {
        let span = tracing::info_span!(
            "inbox",
            consumer = %self.name,
            topic = message.topic(),
            event_type = %event.event_type,
            event_id = %event.id,
            correlation_id = %event.correlation_id,
        );
        let _entered = span.enter();
        let mut backoff = retry_delays(self.first_retry, self.max_retry_delay);
        let mut conflicts_in_a_row = 0;
        let mut failing_since: Option<Instant> = None;
        let outcome = loop {
            let failure = match self.apply(message.topic(), event).await {
                Ok(outcome) => break outcome,
                Err(failure) => failure,
            };
            let started = *failing_since.get_or_insert_with(Instant::now);
            let (delay, error) = match failure {
                Failure::DeadLetter(error) => {
                    self.dead_letter(message, &error).await;
                    break Outcome::DeadLettered;
                }
                Failure::Conflict(error) if conflicts_in_a_row < IMMEDIATE_CONFLICT_RETRIES => {
                    conflicts_in_a_row += 1;
                    (Duration::ZERO, error)
                }
                Failure::Conflict(error) | Failure::Retry(error) => {
                    conflicts_in_a_row = 0;
                    (backoff.next().unwrap_or(self.max_retry_delay), error)
                }
            };
            tracing::warn!(%error, ?delay, "applying failed; retrying (never dead-lettered)");
            metrics::counter!(
                "inbox_retries_total",
                "consumer" => self.name.clone(),
                "topic" => message.topic().to_owned()
            )
            .increment(1);
            self.report_retrying(message, &error, started);
            tokio::time::sleep(delay).await;
        };
        if failing_since.is_some() {
            self.stalls.clear(&self.stall_name);
            self.stall_gauge("retrying").set(0.0);
        }
        outcome
    }

    /// Puts the retry on the stall board and the stalled time on the gauge.
    fn report_retrying(&self, message: &BorrowedMessage<'_>, error: &str, since: Instant) {
        let reason = format!(
            "retrying {}[{}]@{}: {error}",
            message.topic(),
            message.partition(),
            message.offset()
        );
        self.stalls.set(&self.stall_name, reason);
        self.stall_gauge("retrying")
            .set(since.elapsed().as_secs_f64());
    }

    /// Dedupe row + effect in one transaction.
    async fn apply(&self, topic: &str, event: &Envelope) -> Result<Outcome, Failure> {
        let Some(handler) = self.handlers.get(topic) else {
            return Err(Failure::DeadLetter(format!("no handler for topic {topic}")));
        };
        // No connection (database down, pool exhausted) is a transient failure too.
        let mut conn = self
            .pool
            .get()
            .await
            .map_err(|e| Failure::Retry(format!("no database connection: {e}")))?;
        let consumer = self.name.as_str();
        let result = conn
            .transaction::<_, HandlerError, _>(async move |conn| {
                apply_one(conn, consumer, topic, event, handler.as_ref()).await
            })
            .await;
        result.map_err(|error| match error {
            HandlerError::Permanent(e) => Failure::DeadLetter(format!("{e:#}")),
            HandlerError::Transient(e) => Failure::Retry(format!("{e:#}")),
            HandlerError::Conflict(e) => Failure::Conflict(format!("{e:#}")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap_and_stays_there() {
        let delays: Vec<_> = retry_delays(Duration::from_millis(100), Duration::from_millis(500))
            .take(6)
            .map(|delay| delay.as_millis())
            .collect();
        assert_eq!(delays, vec![100, 200, 400, 500, 500, 500]);
    }
}
