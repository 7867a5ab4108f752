//! The provider calls: made by the deadline worker, retried until they succeed,
//! always under the payment's idempotency key, so one payment is one session.

use std::time::Duration;

use comanda_outbox::topics::{PAYMENT_CREATED, PAYMENT_REQUESTED};
use comanda_testkit::eventually;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{payment_id, Payments, Setup, WITHIN};

const SESSIONS: &str = "/v1/checkout/sessions";

#[tokio::test]
async fn a_provider_down_at_first_is_retried_until_it_answers_and_opens_one_session() {
    let mut payments = Payments::start_with(Setup {
        provider_up: false,
        ..Setup::default()
    })
    .await;
    let (order_id, user_id) = (Uuid::now_v7(), Uuid::now_v7());
    payments.request(order_id, user_id, 5_000).await;

    // The create fails (nothing listens), is retried, and the stall shows on /ready.
    payments.wait_for(order_id, "CREATING").await;
    eventually(WITHIN, "the create has failed twice", || async {
        payments
            .count(
                "SELECT coalesce(max(failures), 0)::bigint FROM saga_deadlines \
                    WHERE kind = 'payment.create_session'",
            )
            .await
            >= 2
    })
    .await;
    eventually(WITHIN, "/ready reports the failing calls", || async {
        let res = payments.app.get("/ready").await;
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or_default();
        status == 503
            && body["code"] == "not_ready"
            && body["detail"]
                .as_str()
                .is_some_and(|d| d.contains("deadlines: stalled"))
    })
    .await;

    payments.provider_up().await;
    payments.wait_for(order_id, "PENDING").await;
    assert_eq!(payments.proxy().sessions_created(), 1);
    assert_eq!(payments.proxy().calls().len(), 1);
    assert_eq!(payments.outbox(PAYMENT_CREATED, order_id).await.len(), 1);
    eventually(WITHIN, "/ready is ready again", || async {
        payments.app.get("/ready").await.status().as_u16() == 200
    })
    .await;
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_retried_under_the_same_key_and_opens_one_session() {
    let payments = Payments::start_with(Setup {
        request_timeout_ms: 500,
        ..Setup::default()
    })
    .await;
    // The sandbox creates the session, but its answer arrives after the caller gave up.
    payments
        .proxy()
        .hold_session_answers(1, Duration::from_millis(1_500));
    let (order_id, user_id) = (Uuid::now_v7(), Uuid::now_v7());
    payments.request(order_id, user_id, 1_000).await;
    payments.wait_for(order_id, "PENDING").await;

    let id = payment_id(&payments, order_id).await;
    let calls = payments.proxy().calls();
    assert!(calls.len() >= 2, "{calls:?}");
    assert!(
        calls.iter().all(|c| c.key == Some(id.to_string())),
        "{calls:?}"
    );
    assert_eq!(payments.proxy().sessions_created(), 1, "{calls:?}");
    assert!(
        payments.proxy().count("POST", SESSIONS, 200) >= 1,
        "{calls:?}"
    );
    assert_eq!(payments.outbox(PAYMENT_CREATED, order_id).await.len(), 1);
}

#[tokio::test]
async fn a_payment_requested_twice_is_one_payment_with_one_session() {
    let payments = Payments::start().await;
    let (order_id, user_id) = (Uuid::now_v7(), Uuid::now_v7());
    payments.request(order_id, user_id, 2_000).await;
    payments.request(order_id, user_id, 2_000).await;
    let sql = format!(
        "SELECT count(*) FROM processed_messages WHERE topic = '{}'",
        payments.env.topic(PAYMENT_REQUESTED)
    );
    eventually(WITHIN, "both requests consumed", || async {
        payments.count(&sql).await == 2
    })
    .await;
    payments.wait_for(order_id, "PENDING").await;

    assert_eq!(payments.count("SELECT count(*) FROM payments").await, 1);
    assert_eq!(payments.proxy().sessions_created(), 1);
    assert_eq!(payments.proxy().calls().len(), 1);
    assert_eq!(payments.outbox(PAYMENT_CREATED, order_id).await.len(), 1);
}
