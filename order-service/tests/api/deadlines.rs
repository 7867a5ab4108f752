//! No order stays PENDING: a stock request or reply lost for good is sent again, and an
//! order that never gets an answer is REJECTED `timeout` and compensated.
//!
//! "Lost" here is what a broker restarted empty (or a topic that lost its disk) does
//! after the relay marked the row published: a trigger marks the event's outbox row
//! published as it is written, so the relay never sends it and nothing on Kafka ever
//! carries it. Everything else is real: both services, relays, broker, deadline worker.

use std::time::Duration;

use comanda_outbox::deadline::SagaSettings;
use comanda_testkit::eventually;
use rdkafka::producer::{FutureProducer, FutureRecord};
use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{customer, Saga, WITHIN};

/// Short waits, so a test sees every attempt within a second or two.
fn quick(max_attempts: u32) -> SagaSettings {
    SagaSettings {
        request_timeout_ms: 500,
        max_attempts,
        poll_interval_ms: 50,
    }
}

/// Makes events of `event_types` written to the outbox of `db` vanish as if the broker
/// lost them after the relay sent them: the rows are born published. With
/// `first_only`, only the first such event of each aggregate is lost.
async fn lose(db: &tokio_postgres::Client, event_types: &[&str], first_only: bool) {
    let event_types = event_types
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let condition = if first_only {
        "AND NOT EXISTS (SELECT 1 FROM outbox o \
             WHERE o.kafka_key = NEW.kafka_key AND o.event_type = NEW.event_type)"
    } else {
        ""
    };
    db.batch_execute(&format!(
        "CREATE FUNCTION test_lose_event() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN \
             IF NEW.event_type IN ({event_types}) {condition} THEN \
                 NEW.published_at := now(); \
             END IF; \
             RETURN NEW; \
         END $$; \
         CREATE TRIGGER test_lose_event BEFORE INSERT ON outbox \
             FOR EACH ROW EXECUTE FUNCTION test_lose_event();"
    ))
    .await
    .expect("installs the losing trigger");
}

/// Order `id`'s timeline as `(type, event id, correlation id)`, oldest first.
async fn timeline(saga: &Saga, id: Uuid) -> Vec<(String, Uuid, Uuid)> {
    saga.orders_db()
        .await
        .query(
            "SELECT event_type, event_id, correlation_id::uuid FROM order_events \
             WHERE order_id = $1 ORDER BY id",
            &[&id],
        )
        .await
        .expect("timeline")
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect()
}

fn types(timeline: &[(String, Uuid, Uuid)]) -> Vec<&str> {
    timeline.iter().map(|(t, _, _)| t.as_str()).collect()
}

/// The timeline of an order confirmed after a loss: the first request and at least one
/// sent again (each a new event in the same flow), then only `inventory.stock.reserved`
/// (one answer per request that got through; the first one confirmed the order and
/// ended the resends) and, right after the first, the one `payment.requested` of the
/// confirmation. How many requests went out depends on how fast the broker answers
/// against the short test timeout.
fn assert_requests_then_answers(events: &[(String, Uuid, Uuid)]) {
    let types = types(events);
    let requests = types
        .iter()
        .take_while(|t| **t == "order.created.pending")
        .count();
    assert!(requests >= 2, "the request was sent again: {types:?}");
    let answers = &types[requests..];
    assert!(
        answers.len() > 1
            && answers[..2] == ["inventory.stock.reserved", "payment.requested"]
            && answers[2..]
                .iter()
                .all(|t| *t == "inventory.stock.reserved"),
        "then answers only, and one payment request: {types:?}"
    );
    let mut ids: Vec<Uuid> = events.iter().map(|e| e.1).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), events.len(), "every send is a new event");
    assert!(events.iter().all(|e| e.2 == events[0].2), "one flow");
}

/// Rows of order-service's outbox of `event_type` for order `id`.
async fn outbox_rows(saga: &Saga, event_type: &str, id: Uuid) -> i64 {
    saga.orders_db()
        .await
        .query_one(
            "SELECT count(*) FROM outbox WHERE event_type = $1 AND kafka_key = $2",
            &[&event_type, &id.to_string()],
        )
        .await
        .expect("count")
        .get(0)
}

/// Open stock-request deadlines in order-service's database (a CONFIRMED order has
/// its payment deadline instead).
async fn deadlines(saga: &Saga) -> i64 {
    saga.orders_db()
        .await
        .query_one(
            "SELECT count(*) FROM saga_deadlines WHERE kind = 'order.stock_request'",
            &[],
        )
        .await
        .expect("count")
        .get(0)
}

#[tokio::test]
async fn an_order_whose_stock_request_was_lost_is_sent_again_and_confirmed() {
    let saga = Saga::start_with(quick(5)).await;
    lose(&saga.orders_db().await, &["order.created.pending"], true).await;
    let pizza = saga.product(10, 1200).await;
    let user = customer();
    let id = saga.place(&user, &[(pizza, 2)]).await;

    saga.wait_for(id, "CONFIRMED").await;

    let events = timeline(&saga, id).await;
    assert_requests_then_answers(&events);
    assert_eq!(saga.stock(pizza).await, 8, "reserved once");
    assert_eq!(deadlines(&saga).await, 0, "the answer cleared the deadline");
}

#[tokio::test]
async fn an_order_whose_stock_reply_was_lost_asks_again_gets_the_same_answer_and_stock_moves_once()
{
    let saga = Saga::start_with(quick(5)).await;
    lose(
        &saga.products_db().await,
        &["inventory.stock.reserved"],
        true,
    )
    .await;
    let pizza = saga.product(10, 1200).await;
    let user = customer();
    let id = saga.place(&user, &[(pizza, 3)]).await;

    saga.wait_for(id, "CONFIRMED").await;

    let events = timeline(&saga, id).await;
    assert_requests_then_answers(&events);
    assert_eq!(saga.stock(pizza).await, 7);
    let held = saga
        .count_products("SELECT coalesce(sum(quantity), 0)::bigint FROM reservation_lines")
        .await;
    assert_eq!(held, 3, "one reservation, answered twice");
    let order: Value = saga
        .call(Method::GET, &format!("/api/v1/orders/{id}"), &user, None)
        .await
        .json()
        .await
        .expect("order");
    assert_eq!(order["total_cents"], 3 * 1200);
}

#[tokio::test]
async fn an_order_never_answered_is_rejected_for_timeout_after_its_attempts_and_cancelled() {
    let saga = Saga::start_with(quick(3)).await;
    lose(&saga.orders_db().await, &["order.created.pending"], false).await;
    let pizza = saga.product(10, 1200).await;
    let user = customer();
    let id = saga.place(&user, &[(pizza, 2)]).await;

    saga.wait_for(id, "REJECTED").await;

    let order: Value = saga
        .call(Method::GET, &format!("/api/v1/orders/{id}"), &user, None)
        .await
        .json()
        .await
        .expect("order");
    assert_eq!(order["status"], "REJECTED");
    assert_eq!(order["rejection_reason"], "timeout");
    let events = timeline(&saga, id).await;
    assert_eq!(
        types(&events),
        [
            "order.created.pending",
            "order.created.pending",
            "order.created.pending",
            "order.cancelled"
        ],
        "three attempts, then the compensation"
    );
    assert!(events.iter().all(|e| e.2 == events[0].2), "one flow");
    assert_eq!(outbox_rows(&saga, "order.created.pending", id).await, 3);
    assert_eq!(outbox_rows(&saga, "order.cancelled", id).await, 1);
    let cancel: Value = saga
        .orders_db()
        .await
        .query_one(
            "SELECT payload FROM outbox WHERE event_type = 'order.cancelled' AND kafka_key = $1",
            &[&id.to_string()],
        )
        .await
        .expect("the cancel")
        .get(0);
    assert_eq!(cancel["data"]["reason"], "timeout");
    assert_eq!(deadlines(&saga).await, 0);
    // product-service got the cancel: a tombstone, so a late request never reserves.
    eventually(WITHIN, "product-service saw the cancel", || async {
        saga.reservation(id).await.as_deref() == Some("CANCELLED")
    })
    .await;

    // One of the lost requests turns up after all (a broker that had it after all).
    publish_lost(&saga, "order.created.pending", id).await;
    eventually(
        WITHIN,
        "product-service processed the late request",
        || async {
            saga.count_products("SELECT count(*) FROM processed_messages")
                .await
                == 2
        },
    )
    .await;
    assert_eq!(saga.stock(pizza).await, 10, "stock conserved");
    assert_eq!(saga.reservation(id).await.as_deref(), Some("CANCELLED"));
    assert_eq!(
        saga.count_products("SELECT count(*) FROM outbox WHERE event_type LIKE 'inventory.%'")
            .await,
        0,
        "no answer to a cancelled order"
    );
    assert_eq!(saga.status(id).await, "REJECTED");
}

#[tokio::test]
async fn a_late_request_that_reserves_after_the_timeout_is_released_by_the_timeouts_cancel() {
    let saga = Saga::start_with(quick(2)).await;
    // Every request and the cancel are held back (lost), to be delivered late, in the
    // order that makes product-service reserve for an order already given up.
    lose(
        &saga.orders_db().await,
        &["order.created.pending", "order.cancelled"],
        false,
    )
    .await;
    let pizza = saga.product(10, 1200).await;
    let user = customer();
    let id = saga.place(&user, &[(pizza, 4)]).await;
    saga.wait_for(id, "REJECTED").await;

    publish_lost(&saga, "order.created.pending", id).await;
    eventually(WITHIN, "the late request reserved", || async {
        saga.reservation(id).await.as_deref() == Some("RESERVED")
    })
    .await;
    assert_eq!(saga.stock(pizza).await, 6);
    eventually(WITHIN, "order-service got the late answer", || async {
        types(&timeline(&saga, id).await).contains(&"inventory.stock.reserved")
    })
    .await;
    assert_eq!(saga.status(id).await, "REJECTED", "the timeout stands");

    publish_lost(&saga, "order.cancelled", id).await;
    eventually(WITHIN, "the reservation is released", || async {
        saga.reservation(id).await.as_deref() == Some("RELEASED")
    })
    .await;
    assert_eq!(saga.stock(pizza).await, 10, "stock conserved");
    eventually(WITHIN, "order-service recorded the release", || async {
        types(&timeline(&saga, id).await).contains(&"inventory.stock.released")
    })
    .await;
    assert_eq!(saga.status(id).await, "REJECTED");
    let order: Value = saga
        .call(Method::GET, &format!("/api/v1/orders/{id}"), &user, None)
        .await
        .json()
        .await
        .expect("order");
    assert_eq!(order["rejection_reason"], "timeout");
    assert_eq!(order["total_cents"], Value::Null);
}

#[tokio::test]
async fn two_order_service_instances_on_one_database_fire_each_deadline_once() {
    let saga = Saga::start_with(quick(4)).await;
    // A second instance: its own deadline worker on the same database.
    let _second = saga.second_order_instance().await;
    lose(&saga.orders_db().await, &["order.created.pending"], false).await;
    let pizza = saga.product(100, 1200).await;
    let user = customer();
    let mut ids = Vec::new();
    for _ in 0..8 {
        ids.push(saga.place(&user, &[(pizza, 1)]).await);
    }

    for id in &ids {
        saga.wait_for(*id, "REJECTED").await;
    }
    // Each deadline fired exactly once per attempt, whichever instance fired it: four
    // sends and one cancel per order, never a doubled step.
    for id in &ids {
        let events = timeline(&saga, *id).await;
        assert_eq!(
            types(&events),
            [
                "order.created.pending",
                "order.created.pending",
                "order.created.pending",
                "order.created.pending",
                "order.cancelled"
            ],
            "order {id}"
        );
        assert_eq!(outbox_rows(&saga, "order.created.pending", *id).await, 4);
        assert_eq!(outbox_rows(&saga, "order.cancelled", *id).await, 1);
    }
    assert_eq!(deadlines(&saga).await, 0);
    assert_eq!(saga.stock(pizza).await, 100);
}

#[tokio::test]
async fn a_cancelled_order_has_no_deadline_left_and_is_never_sent_again() {
    let mut saga = Saga::start_with(quick(5)).await;
    let pizza = saga.product(10, 1200).await;
    saga.stop_products().await;
    let user = customer();
    let id = saga.place(&user, &[(pizza, 1)]).await;
    assert_eq!(deadlines(&saga).await, 1);
    assert_eq!(saga.cancel(&user, id).await.status().as_u16(), 200);

    assert_eq!(deadlines(&saga).await, 0);
    // Well past several timeouts: nothing was sent again.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(outbox_rows(&saga, "order.created.pending", id).await, 1);
    assert_eq!(saga.status(id).await, "CANCELLED");
}

/// Publishes the first (lost) event of `event_type` about order `id` now, as a broker
/// that turns out to have had it after all would deliver it.
async fn publish_lost(saga: &Saga, event_type: &str, id: Uuid) {
    let row = saga
        .orders_db()
        .await
        .query_one(
            "SELECT topic, payload FROM outbox WHERE event_type = $1 \
             AND kafka_key = $2 ORDER BY id LIMIT 1",
            &[&event_type, &id.to_string()],
        )
        .await
        .expect("the lost request");
    let (topic, payload): (String, Value) = (row.get(0), row.get(1));
    let producer: FutureProducer = comanda_outbox::kafka::producer_config(&saga.env.brokers)
        .create()
        .expect("producer");
    let bytes = serde_json::to_vec(&payload).expect("JSON");
    let key = id.to_string();
    producer
        .send(
            FutureRecord::to(&topic).key(&key).payload(&bytes),
            Duration::from_secs(10),
        )
        .await
        .expect("broker acks");
}
