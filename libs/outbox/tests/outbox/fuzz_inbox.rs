//! The inbox runtime under arbitrary messages (issue #14 item 15): whatever lands on a
//! topic, a message is processed exactly when it is an envelope whose data its
//! handler decodes, and dead-lettered otherwise; the partition never stalls, so the
//! good message behind it is processed next.

use async_trait::async_trait;
use comanda_outbox::inbox::decode;
use comanda_outbox::{Envelope, Handler, HandlerError, Inbox, Outcome};
use comanda_testkit::arbitrary::{bytes, json_like_text, near_miss, run_async};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use proptest::prelude::*;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Duration;
use uuid::Uuid;

use crate::helpers::{brokers, envelope, produce, producer, unique_topic, TestDb};

/// The shape the handler asks for.
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Payload {
    order_id: Uuid,
    quantity: i32,
}

fn good_data() -> Value {
    json!({"order_id": Uuid::now_v7(), "quantity": 2})
}

/// Decodes the payload, then records the effect.
struct Decodes;

#[async_trait]
impl Handler for Decodes {
    async fn handle(
        &self,
        event: &Envelope,
        conn: &mut AsyncPgConnection,
    ) -> Result<(), HandlerError> {
        decode::<Payload>(event)?;
        diesel::sql_query(format!(
            "INSERT INTO effects (event_id, note) VALUES ('{}', 'applied')",
            event.id
        ))
        .execute(conn)
        .await?;
        Ok(())
    }
}

/// What a producer may put on a topic: bytes, text that looks like JSON, an
/// envelope broken in one field, a valid envelope whose data is broken in one.
fn message() -> impl Strategy<Value = Vec<u8>> {
    let template = envelope("k", good_data());
    let id = template.id.to_string();
    let valid = serde_json::to_value(&template).expect("envelope JSON");
    let fresh = move |value: Value| with_fresh_id(value, &id);
    prop_oneof![
        bytes(128),
        json_like_text().prop_map(String::into_bytes),
        near_miss(valid).prop_map(fresh.clone()),
        near_miss(good_data()).prop_map(move |data| {
            fresh(serde_json::to_value(envelope("k", data)).expect("envelope JSON"))
        }),
    ]
}

/// `value` as bytes, its id replaced by a fresh one when it is still `template_id`:
/// a case must not be taken for a duplicate of an earlier one.
fn with_fresh_id(mut value: Value, template_id: &str) -> Vec<u8> {
    if value.get("id").and_then(Value::as_str) == Some(template_id) {
        value["id"] = Value::from(Uuid::now_v7().to_string());
    }
    serde_json::to_vec(&value).expect("JSON")
}

/// Messages per case (each followed by a good one) and cases.
const BATCH: usize = 24;
const CASES: u32 = 4;

#[test]
fn any_message_is_processed_or_dead_lettered_and_the_next_one_is_processed() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let topic = unique_topic("fuzz");
    let (db, inbox) = runtime.block_on(async {
        let db = TestDb::new().await;
        let group = format!("test-group-{}", Uuid::new_v4().simple());
        let inbox = Inbox::builder(&group, &brokers())
            .handle(&topic, Decodes)
            .build(db.pool.clone())
            .await
            .expect("inbox builds");
        (db, inbox)
    });
    let producer = producer();
    let (inbox, producer, topic) = (&inbox, &producer, topic.as_str());
    // A batch per case, sent at once: a round trip per message would cost seconds.
    let batch = prop::collection::vec(message(), BATCH);
    run_async(&runtime, CASES, batch, |payloads| async move {
        let mut sent = Vec::new();
        let mut expected = Vec::new();
        for payload in payloads {
            let decodes = serde_json::from_slice::<Envelope>(&payload)
                .is_ok_and(|event| decode::<Payload>(&event).is_ok());
            expected.push(if decodes {
                Outcome::Processed
            } else {
                Outcome::DeadLettered
            });
            expected.push(Outcome::Processed);
            let good = envelope("k", good_data());
            sent.push(payload);
            sent.push(serde_json::to_vec(&good).expect("JSON"));
        }
        // One key: one partition, so each good message waits behind its arbitrary one.
        futures::future::join_all(sent.iter().map(|p| produce(producer, topic, "k", p))).await;
        let mut outcomes = Vec::new();
        while outcomes.len() < expected.len() {
            let outcome = inbox
                .poll_once(Duration::from_secs(10))
                .await
                .expect("polls");
            prop_assert!(outcome.is_some(), "no message within 10 s: {outcomes:?}");
            outcomes.extend(outcome);
        }
        prop_assert_eq!(outcomes, expected);
        Ok(())
    });
    let effects = runtime.block_on(db.count("SELECT count(*) AS n FROM effects"));
    assert!(
        effects >= i64::from(CASES) * BATCH as i64,
        "every good message had its effect: {effects}"
    );
}
