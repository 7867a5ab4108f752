//! The dead-letter topic: where a message goes when it cannot be applied, so its
//! partition can move on without losing it.
//!
//! Entries are read and replayed by [`crate::dead_letters`] (`cargo xtask dlq`), which
//! relies on what is written here: the original key, value and headers unchanged, and
//! only `dlq.*` headers added (a replay strips exactly those).

use std::time::Duration;

use rdkafka::message::{BorrowedMessage, Header, Message};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;

use crate::kafka::copy_headers;
use crate::topics;

/// Header naming the topic the message came from.
pub const HEADER_SOURCE_TOPIC: &str = "dlq.source.topic";
/// Header naming the partition the message came from.
pub const HEADER_SOURCE_PARTITION: &str = "dlq.source.partition";
/// Header naming the offset of the message.
pub const HEADER_SOURCE_OFFSET: &str = "dlq.source.offset";
/// Header with the error that sent it here.
pub const HEADER_ERROR: &str = "dlq.error";
/// Header naming the consumer (group) that gave up on it.
pub const HEADER_CONSUMER: &str = "dlq.consumer";

/// Where dead letters go, and who sends them.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The dead-letter topic.
    pub topic: &'a str,
    /// Bootstrap servers (to re-create the topic if the broker lost it).
    pub brokers: &'a str,
    /// The consumer group giving up, written into a header.
    pub consumer: &'a str,
}

/// Sends `message` (original key, value and headers, plus where it came from and
/// why) to the DLQ, retrying until the broker acks: the caller commits the offset
/// only afterwards, so a DLQ outage delays the partition but never drops a message.
pub async fn dead_letter(
    producer: &FutureProducer,
    target: Target<'_>,
    message: &BorrowedMessage<'_>,
    error: &str,
) {
    let Target {
        topic,
        brokers,
        consumer,
    } = target;
    let partition = message.partition().to_string();
    let offset = message.offset().to_string();
    let mut delay = Duration::from_millis(200);
    loop {
        let headers = copy_headers(message.headers())
            .insert(Header {
                key: HEADER_SOURCE_TOPIC,
                value: Some(message.topic()),
            })
            .insert(Header {
                key: HEADER_SOURCE_PARTITION,
                value: Some(partition.as_str()),
            })
            .insert(Header {
                key: HEADER_SOURCE_OFFSET,
                value: Some(offset.as_str()),
            })
            .insert(Header {
                key: HEADER_ERROR,
                value: Some(error),
            })
            .insert(Header {
                key: HEADER_CONSUMER,
                value: Some(consumer),
            });
        let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic).headers(headers);
        if let Some(key) = message.key() {
            record = record.key(key);
        }
        if let Some(payload) = message.payload() {
            record = record.payload(payload);
        }
        match producer
            .send(record, Timeout::After(Duration::from_secs(15)))
            .await
        {
            Ok(_) => {
                metrics::counter!("inbox_dead_lettered_total", "consumer" => consumer.to_owned(), "topic" => message.topic().to_owned())
                    .increment(1);
                tracing::warn!(
                    topic = message.topic(),
                    partition = message.partition(),
                    offset = message.offset(),
                    error,
                    "message dead-lettered"
                );
                return;
            }
            Err((kafka_error, _)) => {
                tracing::warn!(%kafka_error, ?delay, "could not dead-letter; retrying");
                // A broker restarted empty may have lost the topic.
                let _ = topics::ensure(brokers, &[topic]).await;
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}
