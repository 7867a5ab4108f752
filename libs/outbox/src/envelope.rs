//! The event envelope: the one JSON shape every Comanda event travels in.

use chrono::{DateTime, Utc};
use comanda_kit::correlation::CorrelationId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An event as published on Kafka and stored in the outbox.
///
/// `id` is a UUIDv7, so ids sort by creation time; consumers dedupe on it.
/// `correlation_id` ties every event of one business flow together (it starts at
/// the HTTP request that began the flow, and may be the client's own id, such as
/// `req-001`: 1–128 visible ASCII characters); `causation_id` names the event this one
/// reacts to, so a flow can be read back as a tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Unique event id (UUIDv7).
    pub id: Uuid,
    /// Event type, e.g. `user.creating`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Schema version of `data`.
    pub version: u16,
    /// The service that produced the event.
    pub source: String,
    /// The aggregate the event is about; also the Kafka key (ordering per aggregate).
    pub aggregate_id: String,
    /// The flow this event belongs to.
    pub correlation_id: CorrelationId,
    /// The event that caused this one, if any.
    pub causation_id: Option<Uuid>,
    /// When the event happened (UTC).
    pub occurred_at: DateTime<Utc>,
    /// The event's payload.
    pub data: serde_json::Value,
}

impl Envelope {
    /// A new event starting its own flow (correlation id = a fresh UUIDv7).
    pub fn new(
        event_type: impl Into<String>,
        version: u16,
        source: impl Into<String>,
        aggregate_id: impl Into<String>,
        data: serde_json::Value,
    ) -> Self {
        Self {
            id: Uuid::now_v7(),
            event_type: event_type.into(),
            version,
            source: source.into(),
            aggregate_id: aggregate_id.into(),
            correlation_id: CorrelationId::new(),
            causation_id: None,
            occurred_at: Utc::now(),
            data,
        }
    }

    /// Puts the event in an existing flow (e.g. the HTTP request's correlation id).
    pub fn correlated(mut self, correlation_id: impl Into<CorrelationId>) -> Self {
        self.correlation_id = correlation_id.into();
        self
    }

    /// Marks the event as a reaction to `cause`: same flow, `causation_id` = cause's id.
    pub fn caused_by(mut self, cause: &Envelope) -> Self {
        self.correlation_id = cause.correlation_id;
        self.causation_id = Some(cause.id);
        self
    }

    /// A W3C `traceparent` header value derived from the flow: trace id = the
    /// correlation id's ([`CorrelationId::trace_id`]: the id when it is a UUID, else
    /// its hash), span id = the last 8 bytes of the event id. It lets any tracing
    /// backend group a flow without Comanda running a tracer itself.
    pub fn traceparent(&self) -> String {
        let trace = self.correlation_id.trace_id().simple().to_string();
        let span: String = self.id.simple().to_string().chars().skip(16).collect();
        format!("00-{trace}-{span}-01")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_round_trips_through_json_with_type_as_the_field_name() {
        let event = Envelope::new(
            "user.creating",
            1,
            "auth-service",
            "42",
            serde_json::json!({"a": 1}),
        );
        let json = serde_json::to_value(&event).expect("serialises");
        assert_eq!(json["type"], "user.creating");
        let back: Envelope = serde_json::from_value(json).expect("deserialises");
        assert_eq!(back, event);
    }

    #[test]
    fn a_caused_event_keeps_the_flow_and_names_its_cause() {
        let cause = Envelope::new("a", 1, "s", "1", serde_json::Value::Null);
        let effect = Envelope::new("b", 1, "s", "1", serde_json::Value::Null).caused_by(&cause);
        assert_eq!(effect.correlation_id, cause.correlation_id);
        assert_eq!(effect.causation_id, Some(cause.id));
    }

    #[test]
    fn traceparent_is_well_formed_w3c() {
        let event = Envelope::new("a", 1, "s", "1", serde_json::Value::Null);
        let tp = event.traceparent();
        let parts: Vec<&str> = tp.split('-').collect();
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[0], "00");
        assert_eq!(parts[1].len(), 32);
        assert_eq!(parts[2].len(), 16);
        assert_eq!(parts[3], "01");
        assert_eq!(
            parts[1],
            event.correlation_id.trace_id().simple().to_string()
        );
    }

    #[test]
    fn a_clients_correlation_id_travels_as_is_and_gives_a_stable_trace_id() {
        let client = CorrelationId::parse("req-001").expect("valid");
        let event = Envelope::new("a", 1, "s", "1", serde_json::Value::Null).correlated(client);
        let json = serde_json::to_value(&event).expect("serialises");
        assert_eq!(json["correlation_id"], "req-001");
        let back: Envelope = serde_json::from_value(json).expect("deserialises");
        let effect = Envelope::new("b", 1, "s", "1", serde_json::Value::Null).caused_by(&back);
        assert_eq!(effect.correlation_id.as_str(), "req-001");
        let trace = |e: &Envelope| e.traceparent().split('-').nth(1).map(str::to_owned);
        assert_eq!(trace(&effect), trace(&event));
        assert_eq!(trace(&event), Some(client.trace_id().simple().to_string()));
    }

    #[test]
    fn an_event_whose_correlation_id_is_no_valid_id_does_not_decode() {
        let event = Envelope::new("a", 1, "s", "1", serde_json::Value::Null);
        let mut json = serde_json::to_value(&event).expect("serialises");
        json["correlation_id"] = "has a space".into();
        assert!(serde_json::from_value::<Envelope>(json).is_err());
    }
}
