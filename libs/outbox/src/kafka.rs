//! Kafka client settings and the header names shared by producers and consumers.

use rdkafka::message::{Headers, OwnedHeaders};
use rdkafka::ClientConfig;

/// Header carrying the event id.
pub const HEADER_ID: &str = "id";
/// Header carrying the event type.
pub const HEADER_TYPE: &str = "type";
/// Header carrying the correlation id.
pub const HEADER_CORRELATION_ID: &str = "correlation_id";
/// W3C trace context header.
pub const HEADER_TRACEPARENT: &str = "traceparent";

/// Settings of every Comanda producer: idempotent with `acks=all`, so a retried
/// send cannot reorder or duplicate within a partition, and an ack means the
/// broker has the record.
pub fn producer_config(brokers: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        // Small linger: the relay sends whole batches at once, so waiting longer
        // buys little batching and costs commit→ack latency.
        .set("linger.ms", "1")
        // Fail a send after 15 s: the rows stay unpublished in Postgres and the
        // relay retries them; nothing is lost by giving up early.
        .set("message.timeout.ms", "15000")
        .set("socket.keepalive.enable", "true");
    config
}

/// Settings of the relay's producer: [`producer_config`], and no message ever gives
/// up on its own while a later one of its partition gets through.
///
/// - `enable.gapless.guarantee`: an error that would leave a gap in a partition's
///   sequence (a batch failing after retries) stops the producer with a fatal error
///   instead of letting later messages through; the relay then replaces it.
/// - `message.timeout.ms = 0` (never): librdkafka's own timeout is the one failure the
///   gapless guarantee does not cover (a timed-out message can be skipped while a later
///   one of its partition, produced a moment after, is still delivered). The relay keeps
///   its own deadline per batch instead and, when it passes, purges everything queued
///   and in flight at once ([`crate::relay::Publisher::send`]): what reaches each
///   partition is then a prefix of what was sent to it, never a sequence with a hole.
pub fn relay_producer_config(brokers: &str) -> ClientConfig {
    let mut config = producer_config(brokers);
    config
        .set("enable.gapless.guarantee", "true")
        .set("message.timeout.ms", "0");
    config
}

/// Settings of the dead-letter producer: `acks=all` but not idempotent. Order in
/// the DLQ does not matter and a duplicate dead letter is harmless, while an
/// idempotent producer would be stuck with `UnknownProducerId` after a broker
/// lost its state (the relay replaces its producer then; a DLQ send cannot).
pub fn dlq_producer_config(brokers: &str) -> ClientConfig {
    let mut config = producer_config(brokers);
    config.set("enable.idempotence", "false");
    config
}

/// Settings of an inbox consumer in `group`: manual offset commits only, read
/// from the beginning when the group has no offset yet (a fresh broker).
pub fn consumer_config(brokers: &str, group: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "10000")
        .set("heartbeat.interval.ms", "1000")
        // Also the rebalance timeout a joining member announces: a coordinator may
        // wait this long for a member that vanished without leaving the group
        // before it hands its partitions to the others. 5 minutes (the default)
        // would stall a restarted service; a handler waiting out a database outage
        // longer than this simply leaves and rejoins (dedupe absorbs redelivery).
        .set("max.poll.interval.ms", "30000")
        .set("topic.metadata.refresh.interval.ms", "5000")
        .set("enable.partition.eof", "false");
    config
}

/// [`consumer_config`] for a member of `group` that joins it under the static name
/// `instance` (`group.instance.id`), when given one.
///
/// A static member that restarts takes its own place back: same member id, same
/// partitions, no rebalance, and it does not depend on the coordinator noticing that
/// its predecessor died. Closing a static member does not leave the group (KIP-345).
pub fn member_config(brokers: &str, group: &str, instance: Option<&str>) -> ClientConfig {
    let mut config = consumer_config(brokers, group);
    if let Some(instance) = instance {
        config.set("group.instance.id", instance);
    }
    config
}

/// The value of header `name` as UTF-8, if present.
pub fn header<'a, H: Headers>(headers: Option<&'a H>, name: &str) -> Option<&'a str> {
    headers?
        .iter()
        .find(|h| h.key == name)
        .and_then(|h| h.value)
        .and_then(|v| std::str::from_utf8(v).ok())
}

/// A copy of `headers` (owned), to forward them on another record.
pub fn copy_headers<H: Headers>(headers: Option<&H>) -> OwnedHeaders {
    let mut owned = OwnedHeaders::new();
    if let Some(headers) = headers {
        for h in headers.iter() {
            owned = owned.insert(rdkafka::message::Header {
                key: h.key,
                value: h.value,
            });
        }
    }
    owned
}
