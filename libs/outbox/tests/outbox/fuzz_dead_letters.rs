//! Property tests of reading the dead-letter topic (issue #14 item 15): the relay's
//! DLQ watch and `cargo xtask dlq` classify whatever a record holds (any value, key,
//! headers, position and time) without panicking, and a DLQ id parses exactly when it
//! is `<partition>:<offset>` of non-negative numbers.

use comanda_outbox::dead_letters::{DlqId, Ledger, Record, HEADER_REPLAYED};
use comanda_outbox::inbox::dlq::HEADER_SOURCE_TOPIC;
use comanda_testkit::arbitrary::{bytes, config, json};
use proptest::prelude::*;
use rdkafka::message::{Header, OwnedHeaders, OwnedMessage, Timestamp};

/// Header names a DLQ record may carry, the meaningful ones often.
fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            HEADER_REPLAYED,
            HEADER_SOURCE_TOPIC,
            "dlq.source.partition",
            "dlq.source.offset",
            "dlq.error",
            "dlq.consumer",
            "dlq.replayed.to",
            "id",
            "type",
        ])
        .prop_map(str::to_owned),
        "[a-z.]{0,12}",
    ]
}

/// A header value: a DLQ id, a number, text, any bytes, or none.
fn header_value() -> impl Strategy<Value = Option<Vec<u8>>> {
    proptest::option::of(prop_oneof![
        (any::<i32>(), any::<i64>()).prop_map(|(p, o)| format!("{p}:{o}").into_bytes()),
        any::<i64>().prop_map(|n| n.to_string().into_bytes()),
        any::<String>().prop_map(String::into_bytes),
        bytes(24),
    ])
}

fn record() -> impl Strategy<Value = OwnedMessage> {
    let value = proptest::option::of(prop_oneof![
        bytes(64),
        json().prop_map(|v| serde_json::to_vec(&v).expect("JSON")),
    ]);
    let headers = prop::collection::vec((header_name(), header_value()), 0..6);
    (
        value,
        proptest::option::of(bytes(16)),
        headers,
        any::<i32>(),
        any::<i64>(),
        any::<i64>(),
    )
        .prop_map(|(value, key, headers, partition, offset, millis)| {
            let mut owned = OwnedHeaders::new();
            for (name, value) in &headers {
                owned = owned.insert(Header {
                    key: name.as_str(),
                    value: value.as_deref(),
                });
            }
            OwnedMessage::new(
                value,
                key,
                "dlq".to_owned(),
                Timestamp::CreateTime(millis),
                partition,
                offset,
                Some(owned),
            )
        })
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn any_dlq_record_is_classified_without_panicking(
        records in prop::collection::vec(record(), 1..8)
    ) {
        let mut ledger = Ledger::default();
        for message in &records {
            let record = Record::parse(message);
            let marks = matches!(record, Record::Replayed(_));
            let names = |name: &str| {
                use rdkafka::message::Headers as _;
                use rdkafka::Message as _;
                message.headers().and_then(|hs| {
                    hs.iter()
                        .find(|h| h.key == name)
                        .and_then(|h| h.value)
                        .and_then(|v| std::str::from_utf8(v).ok())
                        .map(str::to_owned)
                })
            };
            // A marker exactly when its first `dlq.replayed` header names an id.
            let replayed = names(HEADER_REPLAYED).and_then(|s| s.parse::<DlqId>().ok());
            prop_assert_eq!(marks, replayed.is_some());
            if !marks {
                let entry = matches!(record, Record::Entry(_));
                prop_assert_eq!(entry, names(HEADER_SOURCE_TOPIC).is_some());
            }
            ledger.add(record);
        }
        let _ = ledger.pending_count();
        let _ = ledger.oldest_pending_age_seconds(chrono::Utc::now());
    }

    #[test]
    fn a_dlq_id_parses_exactly_when_it_is_a_partition_and_an_offset(text in prop_oneof![
        any::<String>(),
        (any::<i64>(), any::<i64>()).prop_map(|(p, o)| format!("{p}:{o}")),
    ]) {
        let parsed = text.parse::<DlqId>();
        let expected = text.split_once(':').and_then(|(p, o)| {
            let partition = p.parse::<i32>().ok().filter(|p| *p >= 0)?;
            let offset = o.parse::<i64>().ok().filter(|o| *o >= 0)?;
            Some(DlqId { partition, offset })
        });
        prop_assert_eq!(parsed.as_ref().ok(), expected.as_ref());
        if let Ok(id) = parsed {
            prop_assert_eq!(id.to_string().parse::<DlqId>().ok(), Some(id));
        }
    }
}
