//! `order.cancelled`: an open checkout is voided at the provider, a captured charge is
//! refunded once (also when the capture lands after the cancel), and a cancel that
//! overtakes its `payment.requested` leaves a tombstone.

use comanda_outbox::topics::{
    ORDER_CANCELLED, PAYMENT_CREATED, PAYMENT_REFUNDED, PAYMENT_REQUESTED, PAYMENT_SUCCEEDED,
};
use comanda_testkit::eventually;
use uuid::Uuid;

use crate::helpers::{Payments, CARD_DELAYED, CARD_OK, WITHIN};

/// Waits until the sandbox shows session `session_id` as `status`.
async fn wait_for_session(payments: &Payments, session_id: &str, status: &str) {
    eventually(
        WITHIN,
        &format!("session {session_id} is {status}"),
        || async { payments.session(session_id).await["status"] == status },
    )
    .await;
}

/// Waits until payment-service has consumed `count` events of `event_type`.
async fn wait_consumed(payments: &Payments, event_type: &str, count: i64) {
    let sql = format!(
        "SELECT count(*) FROM processed_messages WHERE topic = '{}'",
        payments.env.topic(event_type)
    );
    eventually(
        WITHIN,
        &format!("{count} {event_type} consumed"),
        || async { payments.count(&sql).await == count },
    )
    .await;
}

#[tokio::test]
async fn cancelling_an_order_whose_checkout_is_open_voids_the_session_at_the_provider() {
    let payments = Payments::start().await;
    let (order_id, _user, session_id) = payments.open_payment(1_200).await;

    payments.cancel(order_id, "expired").await;
    payments.wait_for(order_id, "VOIDED").await;
    wait_for_session(&payments, &session_id, "voided").await;

    // The customer can no longer pay it.
    let late = payments.pay(&session_id, CARD_OK).await;
    assert_eq!(late.status().as_u16(), 409);
    assert_eq!(
        payments.proxy().count(
            "POST",
            &format!("/v1/checkout/sessions/{session_id}/void"),
            200
        ),
        1
    );
    assert!(payments
        .outbox(PAYMENT_SUCCEEDED, order_id)
        .await
        .is_empty());
    assert!(payments.outbox(PAYMENT_REFUNDED, order_id).await.is_empty());
}

#[tokio::test]
async fn a_charge_that_completes_after_its_order_was_cancelled_is_refunded_once() {
    let payments = Payments::start().await;
    let (order_id, _user, session_id) = payments.open_payment(4_200).await;
    // The delayed card: the charge is at the network, not yet captured.
    assert_eq!(
        payments
            .pay(&session_id, CARD_DELAYED)
            .await
            .status()
            .as_u16(),
        200
    );

    payments.cancel(order_id, "expired").await;
    payments.wait_for(order_id, "VOIDED").await;
    wait_for_session(&payments, &session_id, "voided").await;

    // The charge completes all the same; its webhook arrives after the void.
    payments.processor.complete(&session_id);
    payments.wait_for(order_id, "REFUNDED").await;

    let refunded = payments.outbox(PAYMENT_REFUNDED, order_id).await;
    assert_eq!(refunded.len(), 1);
    assert_eq!(refunded[0]["amount_cents"], 4_200);
    assert!(refunded[0]["refund_id"]
        .as_str()
        .is_some_and(|id| id.starts_with("re_")));
    // The order is not revived: no success is announced.
    assert!(payments
        .outbox(PAYMENT_SUCCEEDED, order_id)
        .await
        .is_empty());
    assert_eq!(payments.proxy().refunds_made(), 1);
    assert_eq!(payments.proxy().count("POST", "/v1/refunds", 200), 0);
    wait_for_session(&payments, &session_id, "refunded").await;
}

#[tokio::test]
async fn cancelling_a_paid_order_refunds_its_charge_once() {
    let payments = Payments::start().await;
    let (order_id, _user, session_id) = payments.open_payment(3_000).await;
    assert_eq!(
        payments.pay(&session_id, CARD_OK).await.status().as_u16(),
        200
    );
    payments.wait_for(order_id, "SUCCEEDED").await;

    payments.cancel(order_id, "customer").await;
    payments.wait_for(order_id, "REFUNDED").await;
    // The same cancel again (order-service sent it twice): nothing more.
    payments.cancel(order_id, "customer").await;
    wait_consumed(&payments, ORDER_CANCELLED, 2).await;

    let refunded = payments.outbox(PAYMENT_REFUNDED, order_id).await;
    assert_eq!(refunded.len(), 1);
    assert_eq!(refunded[0]["amount_cents"], 3_000);
    assert_eq!(refunded[0]["currency"], "EUR");
    let calls = payments.proxy().calls();
    let refunds: Vec<_> = calls.iter().filter(|c| c.path == "/v1/refunds").collect();
    assert_eq!(refunds.len(), 1, "{calls:?}");
    let payment_id: Uuid = refunded[0]["payment_id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("a payment id");
    assert_eq!(refunds[0].key, Some(format!("refund-{payment_id}")));
    assert_eq!(refunds[0].status, 201);
    wait_for_session(&payments, &session_id, "refunded").await;
}

#[tokio::test]
async fn a_cancel_that_overtakes_the_request_leaves_a_tombstone_and_the_request_creates_nothing() {
    let payments = Payments::start().await;
    let (order_id, user_id) = (Uuid::now_v7(), Uuid::now_v7());

    payments.cancel(order_id, "customer").await;
    payments.wait_for(order_id, "CANCELLED").await;
    payments.request(order_id, user_id, 800).await;
    wait_consumed(&payments, PAYMENT_REQUESTED, 1).await;

    assert_eq!(
        payments.status(order_id).await.as_deref(),
        Some("CANCELLED")
    );
    assert_eq!(payments.count("SELECT count(*) FROM payments").await, 1);
    assert_eq!(
        payments.count("SELECT count(*) FROM saga_deadlines").await,
        0
    );
    assert!(payments.outbox(PAYMENT_CREATED, order_id).await.is_empty());
    assert!(payments.proxy().calls().is_empty());
}
