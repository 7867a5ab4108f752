//! Cancelling: compensation releases stock once, whenever the cancel comes.

use comanda_testkit::eventually;
use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{customer, Saga, WITHIN};

#[tokio::test]
async fn cancelling_a_confirmed_order_restores_its_stock_exactly_once() {
    let saga = Saga::start().await;
    let product = saga.product(5, 700).await;
    let user = customer();
    let id = saga.place(&user, &[(product, 3)]).await;
    saga.wait_for(id, "CONFIRMED").await;
    assert_eq!(saga.stock(product).await, 2);

    let res = saga.cancel(&user, id).await;
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = res.json().await.expect("order");
    assert_eq!(body["status"], "CANCELLED");
    eventually(WITHIN, "the reservation is released", || async {
        saga.reservation(id).await.as_deref() == Some("RELEASED")
    })
    .await;
    assert_eq!(saga.stock(product).await, 5);

    let again = saga.cancel(&user, id).await;
    assert_eq!(again.status().as_u16(), 409);
    let problem: Value = again.json().await.expect("problem");
    assert_eq!(problem["code"], "invalid_transition");
    assert!(problem["detail"]
        .as_str()
        .expect("detail")
        .contains("CANCELLED"));
    let cancels: Vec<Value> = saga
        .orders_db()
        .await
        .query(
            "SELECT payload FROM outbox WHERE event_type = 'order.cancelled'",
            &[],
        )
        .await
        .expect("cancels")
        .iter()
        .map(|row| row.get::<_, Value>(0)["data"].clone())
        .collect();
    assert_eq!(
        cancels,
        [serde_json::json!({"order_id": id, "reason": "customer"})],
        "one cancel, with its reason"
    );
    assert_eq!(body["cancellation_reason"], "customer");

    // The release reaches the order's timeline; the stock moved back exactly once.
    eventually(WITHIN, "the release is on the timeline", || async {
        let timeline: Value = saga
            .call(
                Method::GET,
                &format!("/api/v1/orders/{id}/timeline"),
                &user,
                None,
            )
            .await
            .json()
            .await
            .expect("timeline");
        timeline["events"]
            .as_array()
            .expect("events")
            .iter()
            .any(|e| e["event_type"] == "inventory.stock.released")
    })
    .await;
    assert_eq!(saga.stock(product).await, 5);
}

#[tokio::test]
async fn cancels_racing_their_reservations_leave_no_stock_held() {
    let saga = Saga::start().await;
    let product = saga.product(100, 100).await;
    let user = customer();
    let mut ids = Vec::new();
    for _ in 0..10 {
        let id = saga.place(&user, &[(product, 2)]).await;
        // At once: the cancel races the reservation through Kafka.
        assert_eq!(saga.cancel(&user, id).await.status().as_u16(), 200);
        ids.push(id);
    }

    eventually(
        WITHIN,
        "product-service handled every order and cancel",
        || async {
            saga.count_products("SELECT count(*) FROM processed_messages")
                .await
                == 20
        },
    )
    .await;
    assert_eq!(saga.stock(product).await, 100);
    for id in &ids {
        let reservation = saga.reservation(*id).await;
        assert!(
            matches!(reservation.as_deref(), Some("RELEASED" | "CANCELLED")),
            "{reservation:?}"
        );
        assert_eq!(saga.status(*id).await, "CANCELLED");
    }
    // Late stock replies to cancelled orders change nothing.
    eventually(WITHIN, "order-service consumed every reply", || async {
        let replies: i64 = saga
            .orders_db()
            .await
            .query_one("SELECT count(*) FROM processed_messages", &[])
            .await
            .expect("count")
            .get(0);
        let sent = saga
            .count_products("SELECT count(*) FROM outbox WHERE event_type LIKE 'inventory.%'")
            .await;
        replies == sent
    })
    .await;
    for id in &ids {
        assert_eq!(saga.status(*id).await, "CANCELLED");
    }
}

#[tokio::test]
async fn a_rejected_order_cannot_be_cancelled_and_strangers_cannot_see_orders() {
    let saga = Saga::start().await;
    let product = saga.product(1, 100).await;
    let user = customer();
    let id = saga.place(&user, &[(product, 2)]).await;
    saga.wait_for(id, "REJECTED").await;

    let res = saga.cancel(&user, id).await;
    assert_eq!(res.status().as_u16(), 409);
    let problem: Value = res.json().await.expect("problem");
    assert!(problem["detail"]
        .as_str()
        .expect("detail")
        .contains("REJECTED"));

    let stranger = customer();
    let path = format!("/api/v1/orders/{id}");
    assert_eq!(
        saga.call(Method::GET, &path, &stranger, None)
            .await
            .status()
            .as_u16(),
        404
    );
    assert_eq!(saga.cancel(&stranger, id).await.status().as_u16(), 404);
    assert_eq!(
        saga.call(Method::GET, &path, &saga.admin, None)
            .await
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        saga.cancel(&user, Uuid::now_v7()).await.status().as_u16(),
        404
    );
}
