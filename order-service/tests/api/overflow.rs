//! A total that does not fit in cents: the order is REJECTED and its stock given back,
//! never a reply stuck in the dead-letter topic with the order PENDING.

use comanda_testkit::eventually;
use reqwest::Method;
use serde_json::Value;

use crate::helpers::{customer, Saga, WITHIN};

#[tokio::test]
async fn a_reserved_price_whose_total_overflows_rejects_the_order_and_releases_its_stock() {
    let saga = Saga::start().await;
    let product = saga.product(10, 100).await;
    // A price stored before prices were bounded: twice it does not fit in an i64.
    saga.products_db()
        .await
        .execute(
            "UPDATE products SET price_cents = $1 WHERE id = $2",
            &[&i64::MAX, &product],
        )
        .await
        .expect("old price");
    let user = customer();
    let id = saga.place(&user, &[(product, 2)]).await;

    eventually(WITHIN, "the order is decided", || async {
        saga.status(id).await != "PENDING"
    })
    .await;
    let order: Value = saga
        .call(Method::GET, &format!("/api/v1/orders/{id}"), &user, None)
        .await
        .json()
        .await
        .expect("order");
    assert_eq!(order["status"], "REJECTED", "{order}");
    assert_eq!(order["rejection_reason"], "total_out_of_range", "{order}");
    assert!(order["total_cents"].is_null(), "{order}");

    // The compensation gives the two units back.
    eventually(WITHIN, "the reservation is released", || async {
        saga.reservation(id).await.as_deref() == Some("RELEASED")
    })
    .await;
    assert_eq!(saga.stock(product).await, 10);
    let cancels: Vec<Value> = saga
        .orders_db()
        .await
        .query(
            "SELECT payload FROM outbox WHERE event_type = 'order.cancelled' AND kafka_key = $1",
            &[&id.to_string()],
        )
        .await
        .expect("cancels")
        .iter()
        .map(|row| row.get::<_, Value>(0)["data"].clone())
        .collect();
    assert_eq!(
        cancels,
        [serde_json::json!({"order_id": id, "reason": "total_out_of_range"})]
    );
}
