//! The payment deadline: a CONFIRMED order not paid within `payment.timeout` (and the
//! settlement grace after it) EXPIRES once — whichever instance fires it, across
//! restarts — and gives its stock back; a payment that comes later does not bring it
//! back, one made in time and reported within the grace pays it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use comanda_outbox::deadline::SagaSettings;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::Saga;
use crate::paying::{
    confirmed, deliver, keeps_its_stock, payment_deadline_due, payment_deadlines, place, published,
    read, refunded, released, succeeded, timeline,
};

/// Both services, order-service's deadline worker polling every 50 ms, the checkout
/// closing `timeout_secs` after confirmation and the order expiring `grace_secs` later.
async fn saga_paying_within(timeout_secs: u64, grace_secs: u64) -> Saga {
    Saga::start_configured(|settings| {
        settings.payment.timeout_secs = timeout_secs;
        settings.payment.settlement_grace_secs = grace_secs;
        settings.saga = SagaSettings {
            poll_interval_ms: 50,
            ..SagaSettings::default()
        };
    })
    .await
}

#[tokio::test]
async fn orders_not_paid_in_time_expire_once_each_with_two_instances_firing_deadlines() {
    let saga = saga_paying_within(1, 0).await;
    let _second = saga.second_order_instance().await;
    let mut orders = Vec::new();
    for _ in 0..6 {
        orders.push(place(&saga, 10, 300, 2).await);
    }

    for order in &orders {
        saga.wait_for(order.id, "EXPIRED").await;
    }
    for order in &orders {
        let shown = read(&saga, &order.user, order.id).await;
        assert_eq!(shown["cancellation_reason"], "expired");
        assert_eq!(shown["payment"], Value::Null);
        assert_eq!(
            published(&saga, "order.cancelled", order.id).await,
            [json!({"order_id": order.id, "reason": "expired"})],
            "one cancel, whichever instance fired"
        );
        assert_eq!(payment_deadlines(&saga, order.id).await, 0);
        released(&saga, order.id).await;
        assert_eq!(saga.stock(order.product).await, 10);
        let events = timeline(&saga, order.id).await;
        assert_eq!(
            events[..4],
            [
                "order.created.pending",
                "inventory.stock.reserved",
                "payment.requested",
                "order.cancelled"
            ]
        );
    }

    let expired = &orders[0];
    let res = saga.cancel(&expired.user, expired.id).await;
    assert_eq!(res.status().as_u16(), 409, "an EXPIRED order is final");
    let problem: Value = res.json().await.expect("problem");
    assert_eq!(problem["code"], "invalid_transition");
    assert!(problem["detail"]
        .as_str()
        .expect("detail")
        .contains("EXPIRED"));
}

#[tokio::test]
async fn a_payment_deadline_that_fell_due_while_order_service_was_down_fires_once_after_restart() {
    let mut saga = Saga::start().await;
    let order = confirmed(&saga, 10, 300, 1).await;
    assert_eq!(payment_deadlines(&saga, order.id).await, 1);

    saga.stop_orders().await;
    // The customer's time runs out while no order-service runs.
    saga.orders_db()
        .await
        .execute(
            "UPDATE saga_deadlines SET due_at = now() - interval '1 minute' \
             WHERE kind = 'order.payment' AND aggregate_id = $1",
            &[&order.id],
        )
        .await
        .expect("due");
    assert_eq!(saga.status(order.id).await, "CONFIRMED");
    saga.restart_orders().await;

    saga.wait_for(order.id, "EXPIRED").await;
    assert_eq!(
        published(&saga, "order.cancelled", order.id).await,
        [json!({"order_id": order.id, "reason": "expired"})]
    );
    assert_eq!(payment_deadlines(&saga, order.id).await, 0);
    released(&saga, order.id).await;
    assert_eq!(saga.stock(order.product).await, 10);
}

#[tokio::test]
async fn a_payment_succeeding_after_the_order_expired_leaves_it_expired_and_shows_the_refund() {
    let saga = saga_paying_within(1, 0).await;
    let order = place(&saga, 10, 450, 2).await;
    saga.wait_for(order.id, "EXPIRED").await;
    let payment_id = Uuid::now_v7();

    let late = succeeded(order.id, payment_id, 900, "EUR");
    deliver(&saga, &late).await;

    let shown = read(&saga, &order.user, order.id).await;
    assert_eq!(shown["status"], "EXPIRED", "the order does not come back");
    assert_eq!(shown["cancellation_reason"], "expired");
    assert_eq!(shown["payment"]["status"], "succeeded");
    assert_eq!(shown["refund"], json!({"status": "pending"}));
    assert_eq!(published(&saga, "order.cancelled", order.id).await.len(), 1);
    released(&saga, order.id).await;
    assert_eq!(saga.stock(order.product).await, 10);

    deliver(&saga, &refunded(order.id, payment_id, 900)).await;
    let shown = read(&saga, &order.user, order.id).await;
    assert_eq!(shown["status"], "EXPIRED");
    assert_eq!(shown["refund"], json!({"status": "succeeded"}));
    let list: Value = saga
        .call(Method::GET, "/api/v1/orders", &order.user, None)
        .await
        .json()
        .await
        .expect("page");
    assert_eq!(list["items"][0]["refund"], json!({"status": "succeeded"}));
}

#[tokio::test]
async fn a_payment_deadline_firing_for_an_order_already_paid_changes_nothing() {
    let saga = saga_paying_within(900, 0).await;
    let order = confirmed(&saga, 10, 300, 1).await;
    deliver(&saga, &succeeded(order.id, Uuid::now_v7(), 300, "EUR")).await;
    assert_eq!(saga.status(order.id).await, "PAID");
    assert_eq!(payment_deadlines(&saga, order.id).await, 0);

    // As if the payment's clear had skipped a deadline being fired at that moment: the
    // deadline fires for a PAID order.
    saga.orders_db()
        .await
        .execute(
            "INSERT INTO saga_deadlines (kind, aggregate_id, due_at) \
             VALUES ('order.payment', $1, now())",
            &[&order.id],
        )
        .await
        .expect("a due deadline");
    comanda_testkit::eventually(crate::helpers::WITHIN, "the deadline fired", || async {
        payment_deadlines(&saga, order.id).await == 0
    })
    .await;

    assert_eq!(saga.status(order.id).await, "PAID");
    keeps_its_stock(&saga, order.id).await;
}

#[tokio::test]
async fn a_payment_made_as_the_checkout_closed_and_reported_after_it_pays_the_order() {
    // The checkout closes 1 s after confirmation; its report may take 30 s more.
    let saga = saga_paying_within(1, 30).await;
    let order = confirmed(&saga, 10, 300, 2).await;
    let requested = published(&saga, "payment.requested", order.id).await;
    let pay_by: DateTime<Utc> =
        serde_json::from_value(requested[0]["pay_by"].clone()).expect("pay_by");
    let due_at = payment_deadline_due(&saga, order.id).await;
    assert_eq!(due_at - pay_by, chrono::Duration::seconds(30));

    // The customer paid at the last moment; the report arrives once the checkout has
    // closed, well after a deadline at `pay_by` would have fired (polled every 50 ms).
    let closed_for = (pay_by - Utc::now()).to_std().unwrap_or_default() + Duration::from_secs(2);
    tokio::time::sleep(closed_for).await;
    assert_eq!(saga.status(order.id).await, "CONFIRMED", "still waiting");
    deliver(&saga, &succeeded(order.id, Uuid::now_v7(), 600, "EUR")).await;

    assert_eq!(saga.status(order.id).await, "PAID");
    assert_eq!(payment_deadlines(&saga, order.id).await, 0);
    keeps_its_stock(&saga, order.id).await;
}
