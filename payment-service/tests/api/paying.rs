//! The way to a payment's outcome: `payment.requested` → the provider's checkout
//! session (`payment.created`) → a card on the sandbox's checkout → its signed
//! webhook → `payment.succeeded` or `payment.failed`.

use comanda_outbox::topics::{
    PAYMENT_CREATED, PAYMENT_FAILED, PAYMENT_REQUESTED, PAYMENT_SUCCEEDED,
};
use uuid::Uuid;

use crate::helpers::{Payments, CARD_DECLINED, CARD_OK};

#[tokio::test]
async fn a_requested_payment_opens_a_checkout_and_a_4242_card_makes_it_succeed() {
    let payments = Payments::start().await;
    let (order_id, user_id) = (Uuid::now_v7(), Uuid::now_v7());
    let requested = payments.request(order_id, user_id, 2_350).await;

    // payment.created reaches the broker (through the relay), in the order's flow.
    let created = payments.consume(PAYMENT_CREATED, order_id).await;
    assert_eq!(created["correlation_id"], requested.correlation_id.as_str());
    let data = &created["data"];
    assert_eq!(data["order_id"], order_id.to_string());
    let checkout_url = data["checkout_url"].as_str().expect("a checkout URL");
    let prefix = format!("{}/checkout/cs_", payments.sandbox);
    assert!(checkout_url.starts_with(&prefix), "{checkout_url}");
    assert!(data["expires_at"].is_string());
    let session_id = checkout_url.rsplit('/').next().expect("an id");
    assert_eq!(payments.session(session_id).await["amount_cents"], 2_350);
    payments.wait_for(order_id, "PENDING").await;

    let paid = payments.pay(session_id, CARD_OK).await;
    assert_eq!(paid.status().as_u16(), 200);

    let succeeded = payments.consume(PAYMENT_SUCCEEDED, order_id).await;
    assert_eq!(
        succeeded["correlation_id"],
        requested.correlation_id.as_str()
    );
    let data = &succeeded["data"];
    assert_eq!(data["payment_id"], created["data"]["payment_id"]);
    assert_eq!(data["amount_cents"], 2_350);
    assert_eq!(data["currency"], "EUR");
    payments.wait_for(order_id, "SUCCEEDED").await;
    assert_eq!(payments.outbox(PAYMENT_SUCCEEDED, order_id).await.len(), 1);
    assert_eq!(
        payments
            .count("SELECT count(*) FROM webhook_events WHERE outcome = 'applied'")
            .await,
        1
    );
    assert_eq!(payments.session(session_id).await["status"], "paid");
    let metrics = payments.metrics().await;
    for line in [
        "payments_total{status=\"SUCCEEDED\"} 1",
        "payment_webhooks_total{type=\"checkout.session.completed\",outcome=\"applied\"} 1",
        "payment_provider_calls_total{call=\"create_session\",outcome=\"ok\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} missing:\n{metrics}");
    }
    // The request was consumed once, by this service's group.
    let consumed = payments
        .count(&format!(
            "SELECT count(*) FROM processed_messages WHERE event_id = '{}' AND topic = '{}'",
            requested.id,
            payments.env.topic(PAYMENT_REQUESTED)
        ))
        .await;
    assert_eq!(consumed, 1);
}

#[tokio::test]
async fn a_declined_card_fails_the_payment_with_the_providers_reason() {
    let payments = Payments::start().await;
    let (order_id, _user, session_id) = payments.open_payment(990).await;

    let paid = payments.pay(&session_id, CARD_DECLINED).await;
    assert_eq!(paid.status().as_u16(), 200);

    let failed = payments.wait_for_event(PAYMENT_FAILED, order_id).await;
    assert_eq!(failed["reason"], "card_declined");
    assert_eq!(failed["order_id"], order_id.to_string());
    payments.wait_for(order_id, "FAILED").await;
    assert!(payments
        .outbox(PAYMENT_SUCCEEDED, order_id)
        .await
        .is_empty());
    let reason = payments
        .db()
        .await
        .query_one(
            "SELECT failure_reason FROM payments WHERE order_id = $1",
            &[&order_id],
        )
        .await
        .expect("payment row")
        .get::<_, String>(0);
    assert_eq!(reason, "card_declined");
}
