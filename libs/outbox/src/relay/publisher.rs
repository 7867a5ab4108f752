//! Sending a batch of outbox rows to Kafka and learning which the broker acked.

use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer, PurgeConfig};

use super::source::OutboxRow;
use comanda_kit::settings::KafkaSecurity;

use crate::kafka::{self, HEADER_CORRELATION_ID, HEADER_ID, HEADER_TRACEPARENT, HEADER_TYPE};

/// What became of one batch.
#[derive(Debug, Default)]
pub struct BatchResult {
    /// Ids of the rows acked before the first failure, in order: safe to mark published.
    pub acked: Vec<i64>,
    /// Commit→ack latency (row insert to broker ack) of each acked row, in seconds.
    pub latencies: Vec<f64>,
    /// The first failure, if any. Rows from it on stay unpublished and are sent again.
    pub failure: Option<KafkaError>,
}

/// An idempotent, gapless producer ([`kafka::relay_producer_config`]) that can be
/// replaced when librdkafka declares it dead.
pub struct Publisher {
    brokers: String,
    security: KafkaSecurity,
    producer: FutureProducer,
    send_timeout: Duration,
}

impl Publisher {
    /// Creates the producer (connecting happens lazily in librdkafka); a batch not
    /// fully acked within `send_timeout` fails.
    pub fn new(brokers: &str, send_timeout: Duration) -> anyhow::Result<Self> {
        Self::secured(brokers, &KafkaSecurity::default(), send_timeout)
    }

    /// [`Publisher::new`], signing in with `security`.
    pub fn secured(
        brokers: &str,
        security: &KafkaSecurity,
        send_timeout: Duration,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            brokers: brokers.to_owned(),
            security: security.clone(),
            producer: create(brokers, security)?,
            send_timeout,
        })
    }

    /// Sends `rows` and waits for every ack.
    ///
    /// Only the prefix acked before the first failure counts as published: a row
    /// after a failed one may share its key, and publishing it now while the failed
    /// one is retried later would reorder that key. Re-sending it instead makes a
    /// duplicate, which consumers absorb.
    pub async fn send(&mut self, rows: &[OutboxRow]) -> BatchResult {
        let mut result = BatchResult::default();
        let mut deliveries = Vec::with_capacity(rows.len());
        for row in rows {
            let headers = headers(row);
            let record = FutureRecord::to(&row.topic)
                .key(&row.key)
                .payload(&row.payload)
                .headers(headers);
            match self.producer.send_result(record) {
                Ok(delivery) => deliveries.push(delivery),
                Err((error, _)) => {
                    result.failure = Some(error);
                    break;
                }
            }
        }
        let deadline = tokio::time::Instant::now() + self.send_timeout;
        let mut purged = false;
        for (row, delivery) in rows.iter().zip(deliveries) {
            tokio::pin!(delivery);
            let outcome = match tokio::time::timeout_at(deadline, &mut delivery).await {
                Ok(outcome) => outcome,
                Err(_elapsed) => {
                    if !purged {
                        // Everything not acked yet fails at once: nothing queued is
                        // sent later, so no partition gets a message past a hole.
                        self.producer
                            .purge(PurgeConfig::default().queue().inflight());
                        purged = true;
                    }
                    delivery.await
                }
            };
            if result.failure.is_some() {
                continue;
            }
            match outcome {
                Ok(Ok(_)) => {
                    result.acked.push(row.id);
                    let latency = (Utc::now() - row.created_at)
                        .num_microseconds()
                        .unwrap_or(0);
                    result.latencies.push(latency as f64 / 1e6);
                }
                Ok(Err((error, _))) => result.failure = Some(error),
                Err(_cancelled) => result.failure = Some(KafkaError::Canceled),
            }
        }
        result
    }

    /// Replaces the producer after a failed batch. The new producer asks the
    /// broker for a new producer id: a broker restarted without its state answers
    /// the old id with `UnknownProducerId` forever (tansu does), and librdkafka
    /// does not always treat that as fatal. Every delivery of the old producer has
    /// resolved by now ([`Publisher::send`] awaits them all), so nothing is dropped.
    pub fn reset(&mut self) -> anyhow::Result<()> {
        if let Some((code, reason)) = self.producer.client().fatal_error() {
            tracing::warn!(?code, %reason, "producer failed fatally");
        }
        self.producer = create(&self.brokers, &self.security)?;
        Ok(())
    }

    /// Waits until everything queued is delivered or `timeout` passes.
    pub fn flush(&self, timeout: Duration) {
        let _ = self.producer.flush(timeout);
    }
}

fn create(brokers: &str, security: &KafkaSecurity) -> anyhow::Result<FutureProducer> {
    security
        .apply(&mut kafka::relay_producer_config(brokers))
        .create()
        .context("creating the Kafka producer")
}

fn headers(row: &OutboxRow) -> OwnedHeaders {
    let id = row.event_id.to_string();
    let mut headers = OwnedHeaders::new_with_capacity(4)
        .insert(Header {
            key: HEADER_ID,
            value: Some(id.as_str()),
        })
        .insert(Header {
            key: HEADER_TYPE,
            value: Some(row.event_type.as_str()),
        })
        .insert(Header {
            key: HEADER_CORRELATION_ID,
            value: Some(row.correlation_id.as_str()),
        });
    if let Some(traceparent) = &row.traceparent {
        headers = headers.insert(Header {
            key: HEADER_TRACEPARENT,
            value: Some(traceparent.as_str()),
        });
    }
    headers
}
