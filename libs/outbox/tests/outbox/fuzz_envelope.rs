//! Property tests of event decoding: whatever a topic holds, the inbox never panics.
//!
//! The inbox decodes a message value with `serde_json::from_slice::<Envelope>` and
//! dead-letters it ("undecodable envelope") when that fails; a handler decodes the
//! envelope's `data` with [`decode`], and a shape mismatch is
//! [`HandlerError::Permanent`] (dead-lettered at once, never retried).

use chrono::{DateTime, Utc};
use comanda_kit::correlation::CorrelationId;
use comanda_outbox::inbox::decode;
use comanda_outbox::{Envelope, HandlerError};
use comanda_testkit::arbitrary::{bytes, config, json, json_like_text, near_miss};
use proptest::prelude::*;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

/// A payload shape like the services' own: ids, integers, text, optional and nested.
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Payload {
    order_id: Uuid,
    lines: Vec<Line>,
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Line {
    product_id: Uuid,
    quantity: i32,
    unit_price_cents: i64,
}

fn envelope(data: Value) -> Envelope {
    Envelope::new("order.created.pending", 1, "order-service", "1", data)
}

fn valid_envelope_json() -> Value {
    serde_json::to_value(envelope(serde_json::json!({"a": 1}))).expect("envelope JSON")
}

/// Visible ASCII, 1-128 characters: every correlation id a client may choose.
fn correlation_id() -> impl Strategy<Value = CorrelationId> {
    "[!-~]{1,128}".prop_map(|text| CorrelationId::parse(&text).expect("visible ASCII"))
}

fn occurred_at() -> impl Strategy<Value = DateTime<Utc>> {
    // Year 1 to 9999: the range RFC 3339 text can hold.
    (-62_135_596_800i64..253_402_300_799, 0u32..1_000_000_000)
        .prop_map(|(secs, nanos)| DateTime::from_timestamp(secs, nanos).expect("in range"))
}

fn any_envelope() -> impl Strategy<Value = Envelope> {
    (
        any::<u128>(),
        any::<String>(),
        any::<u16>(),
        any::<String>(),
        any::<String>(),
        correlation_id(),
        proptest::option::of(any::<u128>()),
        occurred_at(),
        json().prop_map(without_floats),
    )
        .prop_map(
            |(id, event_type, version, source, aggregate_id, correlation_id, cause, at, data)| {
                Envelope {
                    id: Uuid::from_u128(id),
                    event_type,
                    version,
                    source,
                    aggregate_id,
                    correlation_id,
                    causation_id: cause.map(Uuid::from_u128),
                    occurred_at: at,
                    data,
                }
            },
        )
}

/// `value` with every float replaced by an integer: serde_json parses floats to the
/// nearest value only with its `float_roundtrip` feature, so an exact round trip is
/// promised for the rest of JSON only.
fn without_floats(value: Value) -> Value {
    match value {
        Value::Number(n) if n.is_f64() => Value::from(n.as_f64().unwrap_or_default() as i64),
        Value::Array(items) => Value::Array(items.into_iter().map(without_floats).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| (key, without_floats(value)))
                .collect(),
        ),
        other => other,
    }
}

/// A handler's decode of `data` either gives the payload or a permanent failure that
/// names the event; never a transient one (that would retry a bad message forever).
fn assert_decodes_or_is_permanent(data: Value) -> Result<(), TestCaseError> {
    let event = envelope(data);
    match decode::<Payload>(&event) {
        Ok(_) => {}
        Err(HandlerError::Permanent(error)) => {
            let message = error.to_string();
            prop_assert!(
                message.starts_with("data of order.created.pending v1 does not decode"),
                "{message}"
            );
        }
        Err(other) => prop_assert!(false, "not a permanent failure: {other}"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn arbitrary_bytes_on_a_topic_are_refused_as_an_envelope_without_panicking(
        value in bytes(512)
    ) {
        let decoded = serde_json::from_slice::<Envelope>(&value);
        prop_assert!(decoded.is_err(), "random bytes decoded: {decoded:?}");
    }

    #[test]
    fn text_that_looks_like_json_never_panics_the_envelope_decoder(text in json_like_text()) {
        let _ = serde_json::from_slice::<Envelope>(text.as_bytes());
    }

    #[test]
    fn an_envelope_broken_in_one_field_decodes_or_is_refused_without_panicking(
        value in near_miss(valid_envelope_json())
    ) {
        if let Ok(event) = serde_json::from_value::<Envelope>(without_floats(value)) {
            // What decodes must mean what it says: it serialises back to a value that
            // decodes to the same envelope.
            let again = serde_json::to_vec(&event).expect("serialises");
            let back: Envelope = serde_json::from_slice(&again).expect("decodes again");
            prop_assert_eq!(back, event);
        }
    }

    #[test]
    fn a_correlation_id_decodes_only_when_it_is_1_to_128_visible_ascii_characters(
        id in any::<String>()
    ) {
        let mut value = valid_envelope_json();
        value["correlation_id"] = Value::from(id.clone());
        let decoded = serde_json::from_value::<Envelope>(value);
        let acceptable = (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic());
        prop_assert_eq!(decoded.is_ok(), acceptable, "{:?}", id);
        if let Ok(event) = decoded {
            prop_assert_eq!(event.correlation_id.as_str(), id.as_str());
        }
    }

    #[test]
    fn every_envelope_round_trips_through_the_bytes_the_relay_publishes(event in any_envelope()) {
        let published = serde_json::to_vec(&event).expect("serialises");
        let consumed: Envelope = serde_json::from_slice(&published).expect("decodes");
        prop_assert_eq!(consumed, event);
    }

    #[test]
    fn arbitrary_data_decodes_or_is_a_permanent_failure(data in json()) {
        assert_decodes_or_is_permanent(data)?;
    }

    #[test]
    fn data_broken_in_one_field_decodes_or_is_a_permanent_failure(
        data in near_miss(serde_json::json!({
            "order_id": Uuid::now_v7(),
            "lines": [{"product_id": Uuid::now_v7(), "quantity": 2, "unit_price_cents": 1250}],
            "note": "ring twice",
        }))
    ) {
        assert_decodes_or_is_permanent(data)?;
    }
}
