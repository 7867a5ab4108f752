//! The order saga end to end: confirmed, rejected, and under contention.

use std::time::Duration;

use comanda_testkit::eventually;
use futures::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{customer, order_body, Saga};

#[tokio::test]
async fn an_order_in_stock_is_confirmed_with_its_total_and_price_snapshot() {
    let saga = Saga::start().await;
    let pizza = saga.product(10, 1150).await;
    let soda = saga.product(10, 300).await;
    let user = customer();
    let id = saga.place(&user, &[(pizza, 2), (soda, 3)]).await;
    saga.wait_for(id, "CONFIRMED").await;

    let order: Value = saga
        .call(Method::GET, &format!("/api/v1/orders/{id}"), &user, None)
        .await
        .json()
        .await
        .expect("order");
    assert_eq!(order["status"], "CONFIRMED");
    assert_eq!(order["total_cents"], 2 * 1150 + 3 * 300);
    let lines = order["lines"].as_array().expect("lines");
    assert!(lines
        .iter()
        .all(|l| l["unit_price_cents"].is_i64() && l["name"].is_string()));
    assert_eq!(saga.stock(pizza).await, 8);
    assert_eq!(saga.stock(soda).await, 7);

    // The snapshot stays when the catalogue price changes afterwards.
    saga.products_db()
        .await
        .execute("UPDATE products SET price_cents = 9999", &[])
        .await
        .expect("reprice");
    let row = saga
        .orders_db()
        .await
        .query_one(
            "SELECT total_cents, (SELECT sum(unit_price_cents * quantity) FROM order_lines WHERE order_id = $1)::bigint FROM orders WHERE id = $1",
            &[&id],
        )
        .await
        .expect("order row");
    assert_eq!(row.get::<_, Option<i64>>(0), Some(3200));
    assert_eq!(row.get::<_, Option<i64>>(1), Some(3200));
}

#[tokio::test]
async fn an_order_short_of_stock_is_rejected_with_its_shortfalls_and_moves_no_stock() {
    let saga = Saga::start().await;
    let plenty = saga.product(10, 500).await;
    let scarce = saga.product(1, 500).await;
    let user = customer();
    let id = saga.place(&user, &[(plenty, 2), (scarce, 3)]).await;
    saga.wait_for(id, "REJECTED").await;

    let row = saga
        .orders_db()
        .await
        .query_one(
            "SELECT shortfalls, total_cents FROM orders WHERE id = $1",
            &[&id],
        )
        .await
        .expect("order row");
    assert_eq!(
        row.get::<_, Option<Value>>(0),
        Some(json!([{"product_id": scarce, "requested": 3, "available": 1}]))
    );
    assert_eq!(row.get::<_, Option<i64>>(1), None);
    assert_eq!(saga.stock(plenty).await, 10);
    assert_eq!(saga.stock(scarce).await, 1);
    assert_eq!(saga.reservation(id).await.as_deref(), Some("FAILED"));
}

#[tokio::test]
async fn two_hundred_concurrent_orders_for_fifty_units_confirm_exactly_fifty() {
    let saga = Saga::start().await;
    let product = saga.product(50, 100).await;
    let body = order_body(&[(product, 1)]);
    // Two hundred customers: one alone may hold only `orders.max_open_per_user` orders.
    let statuses: Vec<u16> = futures::stream::iter(0..200)
        .map(|_| {
            let (saga, user, body) = (&saga, customer(), body.clone());
            async move {
                saga.call(Method::POST, "/api/v1/orders", &user, Some(body))
                    .await
                    .status()
                    .as_u16()
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    assert!(statuses.iter().all(|s| *s == 202), "{statuses:?}");

    let db = saga.orders_db().await;
    eventually(
        Duration::from_secs(120),
        "every order is decided",
        || async {
            let pending: i64 = db
                .query_one("SELECT count(*) FROM orders WHERE status = 'PENDING'", &[])
                .await
                .expect("count")
                .get(0);
            pending == 0
        },
    )
    .await;
    let count = |status: &'static str| {
        let db = &db;
        async move {
            db.query_one("SELECT count(*) FROM orders WHERE status = $1", &[&status])
                .await
                .expect("count")
                .get::<_, i64>(0)
        }
    };
    assert_eq!(count("CONFIRMED").await, 50);
    assert_eq!(count("REJECTED").await, 150);
    assert_eq!(saga.stock(product).await, 0);
    let held = saga
        .count_products("SELECT coalesce(sum(quantity), 0)::bigint FROM reservation_lines")
        .await;
    assert_eq!(held, 50);
}
