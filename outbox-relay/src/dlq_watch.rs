//! The DLQ watcher: keeps the gauges `dlq_entries` (dead letters not replayed)
//! and `dlq_oldest_entry_age_seconds` (0 when none is pending) up to date.
//!
//! It reads the DLQ topic with `comanda_outbox::dead_letters::Reader`: every
//! partition, from the beginning, outside any consumer group, then only what was
//! appended since, every `relay.dlq_watch_interval_ms`. It lives in the relay
//! because the relay is the one long-running process that is already connected to
//! the broker and serves `/metrics`; a second relay instance reports the same
//! figures. Both gauges carry the topic as a label.

use std::time::Duration;

use comanda_kit::workers::CancellationToken;
use comanda_outbox::dead_letters::{Ledger, Reader};
use comanda_outbox::topics;

/// Which DLQ to watch, and how often.
#[derive(Debug, Clone)]
pub struct DlqWatch {
    /// Bootstrap servers.
    pub brokers: String,
    /// How the reader signs in (the relay's own Kafka user).
    pub security: comanda_kit::settings::KafkaSecurity,
    /// The DLQ topic (with the deployment's topic prefix).
    pub topic: String,
    /// Time between two reads.
    pub every: Duration,
}

/// Updates the gauges until `shutdown` is cancelled. A broker error drops the
/// reader: the next round re-creates the topic if it is gone and reads it again
/// from the start (a broker restarted empty has a new, shorter topic).
pub async fn run(watch: DlqWatch, shutdown: CancellationToken) {
    let mut reader: Option<Reader> = None;
    loop {
        let result = tokio::select! {
            _ = shutdown.cancelled() => return,
            result = round(&watch, reader, &shutdown) => result,
        };
        reader = match result {
            Ok(reader) => {
                publish(&watch.topic, reader.ledger());
                Some(reader)
            }
            Err(error) => {
                tracing::warn!(topic = %watch.topic, error = format!("{error:#}"), "could not read the DLQ");
                None
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(watch.every) => {}
        }
    }
}

/// One read: what was appended since the last one.
async fn round(
    watch: &DlqWatch,
    reader: Option<Reader>,
    shutdown: &CancellationToken,
) -> anyhow::Result<Reader> {
    let mut reader = match reader {
        Some(reader) => reader,
        None => {
            let durability = topics::Durability::default();
            topics::ensure_secured(&watch.brokers, &watch.security, &[&watch.topic], durability)
                .await?;
            Reader::secured(&watch.brokers, &watch.security, &watch.topic)?
        }
    };
    // The reader's broker calls block: keep them off the runtime's workers, and
    // let shutdown end them so the process exits promptly even with the broker down.
    let stop = shutdown.clone();
    tokio::task::spawn_blocking(move || reader.catch_up_or_stop(&stop).map(|()| reader)).await?
}

fn publish(topic: &str, ledger: &Ledger) {
    let topic = topic.to_owned();
    metrics::gauge!("dlq_entries", "topic" => topic.clone()).set(ledger.pending_count() as f64);
    metrics::gauge!("dlq_oldest_entry_age_seconds", "topic" => topic)
        .set(ledger.oldest_pending_age_seconds(chrono::Utc::now()));
}
