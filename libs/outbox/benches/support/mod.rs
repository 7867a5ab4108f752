//! What the fetch benches share: an inbox-like consumer of chosen partitions, and one
//! record's trip from producer to consumer.

use std::time::{Duration, Instant};

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, TopicPartitionList};

/// A consumer with the inbox's settings and fetch wait `wait_ms`, assigned
/// `partitions` of `topic` from `offset` (no group protocol).
pub fn consumer(
    brokers: &str,
    topic: &str,
    wait_ms: u64,
    partitions: std::ops::Range<i32>,
    offset: Offset,
) -> anyhow::Result<StreamConsumer> {
    let mut config = comanda_outbox::kafka::consumer_config(brokers, topic);
    config.set("fetch.wait.max.ms", wait_ms.to_string());
    let consumer: StreamConsumer = config.create()?;
    let mut assigned = TopicPartitionList::new();
    for partition in partitions {
        assigned.add_partition_offset(topic, partition, offset)?;
    }
    consumer.assign(&assigned)?;
    Ok(consumer)
}

/// Produces a record keyed `key` to `topic` (to `partition`, or by key) and waits until
/// `consumer` receives it: milliseconds from the send to the receipt.
pub async fn round_trip(
    producer: &FutureProducer,
    consumer: &StreamConsumer,
    topic: &str,
    partition: Option<i32>,
    key: &str,
) -> anyhow::Result<f64> {
    let sent = Instant::now();
    let mut record = FutureRecord::to(topic).key(key).payload("x");
    if let Some(partition) = partition {
        record = record.partition(partition);
    }
    producer
        .send(record, Duration::from_secs(10))
        .await
        .map_err(|(e, _)| e)?;
    loop {
        let message = consumer.recv().await?;
        if message.key() == Some(key.as_bytes()) {
            return Ok(sent.elapsed().as_secs_f64() * 1000.0);
        }
    }
}
