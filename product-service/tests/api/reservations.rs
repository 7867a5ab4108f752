//! Reacting to order events: all lines or none, releases once, cancel-before-order.
//!
//! The order events are sent straight to Kafka, as order-service's relay would.

use std::time::Duration;

use comanda_outbox::{topics, Envelope};
use comanda_testkit::eventually;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{id_of, product, spawn_app, App};

const WITHIN: Duration = Duration::from_secs(30);

fn pending(order_id: Uuid, lines: &[(Uuid, i32)]) -> Envelope {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(product_id, quantity)| json!({"product_id": product_id, "quantity": quantity}))
        .collect();
    Envelope::new(
        topics::ORDER_CREATED_PENDING,
        1,
        "order-service",
        order_id.to_string(),
        json!({"order_id": order_id, "lines": lines}),
    )
}

fn cancelled(order_id: Uuid) -> Envelope {
    Envelope::new(
        topics::ORDER_CANCELLED,
        1,
        "order-service",
        order_id.to_string(),
        json!({"order_id": order_id}),
    )
}

/// The data of the one reply of `event_type` for `order_id` in the outbox, once it exists.
async fn reply(app: &App, event_type: &str, order_id: Uuid) -> Value {
    let key = order_id.to_string();
    let sql = "SELECT count(*) FROM outbox WHERE event_type = $1 AND kafka_key = $2";
    eventually(WITHIN, event_type, || async {
        app.count(sql, &[&event_type, &key]).await == 1
    })
    .await;
    let row = app
        .db()
        .await
        .query_one(
            "SELECT payload FROM outbox WHERE event_type = $1 AND kafka_key = $2",
            &[&event_type, &key],
        )
        .await
        .expect("reply row");
    row.get::<_, Value>(0)["data"].clone()
}

#[tokio::test]
async fn an_order_in_stock_is_reserved_whole_and_answered_with_price_snapshots() {
    let app = spawn_app().await;
    let a = id_of(&app.create(product("A", 3)).await);
    let b = id_of(&app.create(product("B", 1)).await);
    let order = Uuid::now_v7();
    app.send(
        topics::ORDER_CREATED_PENDING,
        &pending(order, &[(a, 2), (b, 1)]),
    )
    .await;

    let data = reply(&app, topics::STOCK_RESERVED, order).await;
    assert_eq!(data["lines"].as_array().expect("lines").len(), 2);
    assert!(data["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .all(|l| l["unit_price_cents"] == 1000 && l["name"].is_string()));
    assert_eq!(app.stock(a).await, 1);
    assert_eq!(app.stock(b).await, 0);
    assert_eq!(app.reservation(order).await.as_deref(), Some("RESERVED"));
    let lines = app
        .count(
            "SELECT count(*) FROM reservation_lines WHERE order_id = $1",
            &[&order],
        )
        .await;
    assert_eq!(lines, 2);
}

#[tokio::test]
async fn an_order_short_on_one_line_reserves_nothing_and_names_its_shortfalls() {
    let app = spawn_app().await;
    let a = id_of(&app.create(product("A", 3)).await);
    let b = id_of(&app.create(product("B", 1)).await);
    let unknown = Uuid::now_v7();
    let order = Uuid::now_v7();
    app.send(
        topics::ORDER_CREATED_PENDING,
        &pending(order, &[(a, 1), (b, 2), (unknown, 1)]),
    )
    .await;

    let data = reply(&app, topics::STOCK_FAILED, order).await;
    let mut shortfalls = data["shortfalls"].as_array().expect("shortfalls").clone();
    shortfalls.sort_by_key(|s| s["product_id"].as_str().map(str::to_owned));
    assert_eq!(shortfalls.len(), 2, "{data}");
    assert!(shortfalls.contains(&json!({"product_id": b, "requested": 2, "available": 1})));
    assert!(shortfalls.contains(&json!({"product_id": unknown, "requested": 1, "available": 0})));
    assert_eq!(app.stock(a).await, 3);
    assert_eq!(app.stock(b).await, 1);
    assert_eq!(app.reservation(order).await.as_deref(), Some("FAILED"));
}

#[tokio::test]
async fn a_cancel_then_a_resent_cancel_gives_the_stock_back_once() {
    let app = spawn_app().await;
    let a = id_of(&app.create(product("A", 3)).await);
    let order = Uuid::now_v7();
    app.send(topics::ORDER_CREATED_PENDING, &pending(order, &[(a, 2)]))
        .await;
    reply(&app, topics::STOCK_RESERVED, order).await;
    // Two distinct cancel events (new ids, so the inbox's dedupe does not catch the
    // second): the reservation's status does.
    app.send(topics::ORDER_CANCELLED, &cancelled(order)).await;
    app.send(topics::ORDER_CANCELLED, &cancelled(order)).await;

    reply(&app, topics::STOCK_RELEASED, order).await;
    eventually(WITHIN, "both cancels are processed", || async {
        app.count("SELECT count(*) FROM processed_messages", &[])
            .await
            == 3
    })
    .await;
    assert_eq!(app.stock(a).await, 3);
    assert_eq!(app.reservation(order).await.as_deref(), Some("RELEASED"));
    let released = app
        .count(
            "SELECT count(*) FROM outbox WHERE event_type = 'inventory.stock.released'",
            &[],
        )
        .await;
    assert_eq!(released, 1);
}

#[tokio::test]
async fn a_cancel_before_its_order_leaves_a_tombstone_so_the_order_is_never_reserved() {
    let app = spawn_app().await;
    let a = id_of(&app.create(product("A", 3)).await);
    let order = Uuid::now_v7();
    app.send(topics::ORDER_CANCELLED, &cancelled(order)).await;
    eventually(WITHIN, "the tombstone is written", || async {
        app.reservation(order).await.as_deref() == Some("CANCELLED")
    })
    .await;
    app.send(topics::ORDER_CREATED_PENDING, &pending(order, &[(a, 2)]))
        .await;
    eventually(WITHIN, "the late order is processed", || async {
        app.count("SELECT count(*) FROM processed_messages", &[])
            .await
            == 2
    })
    .await;

    assert_eq!(app.stock(a).await, 3);
    assert_eq!(app.reservation(order).await.as_deref(), Some("CANCELLED"));
    let replies = app
        .count(
            "SELECT count(*) FROM outbox WHERE event_type LIKE 'inventory.%'",
            &[],
        )
        .await;
    assert_eq!(replies, 0, "a cancelled order gets no stock reply");
}

/// The data of every reply of `event_type` for `order_id` in the outbox, oldest first.
async fn replies(app: &App, event_type: &str, order_id: Uuid) -> Vec<Value> {
    app.db()
        .await
        .query(
            "SELECT payload FROM outbox WHERE event_type = $1 AND kafka_key = $2 ORDER BY id",
            &[&event_type, &order_id.to_string()],
        )
        .await
        .expect("replies")
        .iter()
        .map(|row| row.get::<_, Value>(0)["data"].clone())
        .collect()
}

/// Waits until `n` messages were processed by the inbox.
async fn processed(app: &App, n: i64) {
    eventually(WITHIN, &format!("{n} messages are processed"), || async {
        app.count("SELECT count(*) FROM processed_messages", &[])
            .await
            == n
    })
    .await;
}

#[tokio::test]
async fn a_request_sent_again_for_a_reserved_order_is_answered_reserved_again_and_reserves_nothing_more(
) {
    let app = spawn_app().await;
    let a = id_of(&app.create(product("A", 3)).await);
    let order = Uuid::now_v7();
    app.send(topics::ORDER_CREATED_PENDING, &pending(order, &[(a, 2)]))
        .await;
    let first = reply(&app, topics::STOCK_RESERVED, order).await;
    // order-service sends the request again (a new event id) when the answer is lost.
    app.send(topics::ORDER_CREATED_PENDING, &pending(order, &[(a, 2)]))
        .await;
    processed(&app, 2).await;

    let answers = replies(&app, topics::STOCK_RESERVED, order).await;
    assert_eq!(answers.len(), 2, "answered again: {answers:?}");
    assert_eq!(answers[1], first, "the same lines, prices and names");
    assert_eq!(app.stock(a).await, 1, "reserved once");
    let held = app
        .count(
            "SELECT coalesce(sum(quantity), 0)::bigint FROM reservation_lines WHERE order_id = $1",
            &[&order],
        )
        .await;
    assert_eq!(held, 2);
    assert_eq!(app.reservation(order).await.as_deref(), Some("RESERVED"));
}

#[tokio::test]
async fn a_request_sent_again_for_a_failed_order_is_answered_with_the_same_shortfalls_even_once_stock_arrived(
) {
    let app = spawn_app().await;
    let a = id_of(&app.create(product("A", 1)).await);
    let order = Uuid::now_v7();
    app.send(topics::ORDER_CREATED_PENDING, &pending(order, &[(a, 2)]))
        .await;
    let first = reply(&app, topics::STOCK_FAILED, order).await;
    app.db()
        .await
        .execute("UPDATE products SET stock = 10 WHERE id = $1", &[&a])
        .await
        .expect("restock");
    app.send(topics::ORDER_CREATED_PENDING, &pending(order, &[(a, 2)]))
        .await;
    processed(&app, 2).await;

    let answers = replies(&app, topics::STOCK_FAILED, order).await;
    assert_eq!(answers.len(), 2, "answered again: {answers:?}");
    assert_eq!(answers[1], first);
    assert_eq!(
        first["shortfalls"],
        json!([{"product_id": a, "requested": 2, "available": 1}])
    );
    assert_eq!(
        app.stock(a).await,
        10,
        "the order was decided: nothing reserved"
    );
    assert!(replies(&app, topics::STOCK_RESERVED, order)
        .await
        .is_empty());
    assert_eq!(app.reservation(order).await.as_deref(), Some("FAILED"));
}

#[tokio::test]
async fn a_request_sent_again_after_its_order_was_cancelled_and_released_reserves_nothing_and_gets_no_answer(
) {
    let app = spawn_app().await;
    let a = id_of(&app.create(product("A", 3)).await);
    let order = Uuid::now_v7();
    app.send(topics::ORDER_CREATED_PENDING, &pending(order, &[(a, 2)]))
        .await;
    reply(&app, topics::STOCK_RESERVED, order).await;
    // order-service gave the order up (timeout) and published order.cancelled...
    app.send(topics::ORDER_CANCELLED, &cancelled(order)).await;
    reply(&app, topics::STOCK_RELEASED, order).await;
    // ...and a request it had sent again arrives late.
    app.send(topics::ORDER_CREATED_PENDING, &pending(order, &[(a, 2)]))
        .await;
    processed(&app, 3).await;

    assert_eq!(app.stock(a).await, 3);
    assert_eq!(app.reservation(order).await.as_deref(), Some("RELEASED"));
    assert_eq!(replies(&app, topics::STOCK_RESERVED, order).await.len(), 1);
    assert!(replies(&app, topics::STOCK_FAILED, order).await.is_empty());
}
