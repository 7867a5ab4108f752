//! `Idempotency-Key`: a retried creation answers the first response and orders nothing
//! new; a key reused for another order is refused.

use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{customer, order_body, Saga};

async fn orders_of_the_test(saga: &Saga) -> (i64, i64) {
    let db = saga.orders_db().await;
    let orders = db
        .query_one("SELECT count(*) FROM orders", &[])
        .await
        .expect("count")
        .get(0);
    let events = db
        .query_one("SELECT count(*) FROM outbox", &[])
        .await
        .expect("count")
        .get(0);
    (orders, events)
}

#[tokio::test]
async fn a_replayed_idempotency_key_answers_the_first_response_and_creates_nothing() {
    let saga = Saga::start().await;
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let user = customer();
    let first = saga
        .post_order(&user, Some("k-1"), order_body(&[(a, 1), (b, 2)]))
        .await;
    assert_eq!(first.status().as_u16(), 202);
    let first: Value = first.json().await.expect("order");

    // Same lines in another order: the same request.
    let replay = saga
        .post_order(&user, Some("k-1"), order_body(&[(b, 2), (a, 1)]))
        .await;
    assert_eq!(replay.status().as_u16(), 202);
    let replay: Value = replay.json().await.expect("order");
    assert_eq!(replay, first);
    assert_eq!(orders_of_the_test(&saga).await, (1, 1));

    // Keys are per user: another user's "k-1" is a new order.
    let other = saga
        .post_order(&customer(), Some("k-1"), order_body(&[(a, 1), (b, 2)]))
        .await;
    assert_eq!(other.status().as_u16(), 202);
    assert_eq!(orders_of_the_test(&saga).await, (2, 2));
}

#[tokio::test]
async fn an_idempotency_key_reused_with_another_body_is_a_422_and_creates_nothing() {
    let saga = Saga::start().await;
    let a = Uuid::now_v7();
    let user = customer();
    let first = saga
        .post_order(&user, Some("k-2"), order_body(&[(a, 1)]))
        .await;
    assert_eq!(first.status().as_u16(), 202);
    let reused = saga
        .post_order(&user, Some("k-2"), order_body(&[(a, 2)]))
        .await;
    assert_eq!(reused.status().as_u16(), 422);
    let problem: Value = reused.json().await.expect("problem");
    assert_eq!(problem["code"], "idempotency_key_reused");
    assert_eq!(orders_of_the_test(&saga).await, (1, 1));
}

#[tokio::test]
async fn concurrent_requests_with_one_key_create_one_order() {
    let saga = Saga::start().await;
    let a = Uuid::now_v7();
    let user = customer();
    let requests = (0..8).map(|_| saga.post_order(&user, Some("k-3"), order_body(&[(a, 1)])));
    let responses = futures::future::join_all(requests).await;
    let mut bodies = Vec::new();
    for res in responses {
        assert_eq!(res.status().as_u16(), 202);
        bodies.push(res.json::<Value>().await.expect("order"));
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(orders_of_the_test(&saga).await, (1, 1));
}
