//! The event envelope: the one JSON shape every Comanda event travels in.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An event as published on Kafka and stored in the outbox.
///
/// `id` is a UUIDv7, so ids sort by creation time; consumers dedupe on it.
/// `correlation_id` ties every event of one business flow together (it starts at
/// the HTTP request that began the flow); `causation_id` names the event this one
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
    pub correlation_id: Uuid,
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
            correlation_id: Uuid::now_v7(),
            causation_id: None,
            occurred_at: Utc::now(),
            data,
        }
    }

    /// Puts the event in an existing flow (e.g. the HTTP request's correlation id).
    pub fn correlated(mut self, correlation_id: Uuid) -> Self {
        self.correlation_id = correlation_id;
        self
    }

    /// Marks the event as a reaction to `cause`: same flow, `causation_id` = cause's id.
    pub fn caused_by(mut self, cause: &Envelope) -> Self {
        self.correlation_id = cause.correlation_id;
        self.causation_id = Some(cause.id);
        self
    }

    /// A W3C `traceparent` header value derived from the flow: trace id = the
    /// correlation id, span id = the first 8 bytes of the event id. It lets any
    /// tracing backend group a flow without Comanda running a tracer itself.
    pub fn traceparent(&self) -> String {
        let trace = self.correlation_id.simple().to_string();
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
        assert_eq!(parts[1], event.correlation_id.simple().to_string());
    }
}
