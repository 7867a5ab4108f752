//! The payment step: a CONFIRMED order asks for the payment of its total, and
//! payment-service's events (put on their topics here as its relay would publish them)
//! make it PAID or CANCELLED — each with one effect however often they arrive — or
//! change nothing once the order has left CONFIRMED.

use chrono::{DateTime, Utc};
use comanda_outbox::topics;
use comanda_testkit::eventually;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{order_body, Saga, WITHIN};
use crate::paying::{
    confirmed, created, deliver, failed, keeps_its_stock, payment_deadline_due, payment_deadlines,
    payment_event, published, read, redeliver, refunded, released, succeeded, timeline,
};

#[tokio::test]
async fn a_confirmed_order_asks_for_the_payment_of_its_total_by_the_checkouts_close() {
    let saga = Saga::start().await;
    let order = confirmed(&saga, 10, 1150, 2).await;

    let requests = published(&saga, "payment.requested", order.id).await;
    assert_eq!(requests.len(), 1, "one request");
    let request = &requests[0];
    assert_eq!(request["order_id"], json!(order.id));
    assert_eq!(request["user_id"], json!(order.user_id));
    assert_eq!(request["amount_cents"], 2300);
    assert_eq!(request["currency"], "EUR");
    let pay_by: DateTime<Utc> = request["pay_by"]
        .as_str()
        .expect("pay_by")
        .parse()
        .expect("RFC 3339");
    let due_at = payment_deadline_due(&saga, order.id).await;
    assert_eq!(
        due_at - pay_by,
        chrono::Duration::seconds(120),
        "the order expires the settlement grace (120 s by default) after its checkout closes"
    );
    // `payment.timeout` is 900 s by default.
    assert!(
        pay_by > Utc::now() + chrono::Duration::seconds(800),
        "{pay_by}"
    );

    let shown = read(&saga, &order.user, order.id).await;
    assert_eq!(shown["status"], "CONFIRMED");
    assert_eq!(shown["total_cents"], 2300);
    assert_eq!(shown["currency"], "EUR");
    assert_eq!(shown["payment"], Value::Null);
    assert_eq!(shown["refund"], Value::Null);
    assert_eq!(
        timeline(&saga, order.id).await,
        [
            "order.created.pending",
            "inventory.stock.reserved",
            "payment.requested"
        ]
    );
}

#[tokio::test]
async fn a_payment_of_the_total_makes_the_order_paid_once_and_shows_it() {
    let saga = Saga::start().await;
    let order = confirmed(&saga, 10, 700, 3).await;
    let payment_id = Uuid::now_v7();

    let checkout = created(order.id, payment_id);
    deliver(&saga, &checkout).await;
    let shown = read(&saga, &order.user, order.id).await;
    assert_eq!(shown["status"], "CONFIRMED");
    let url = format!("http://127.0.0.1:5030/checkout/cs_{}", payment_id.simple());
    assert_eq!(
        shown["payment"],
        json!({"id": payment_id, "status": "pending", "checkout_url": url,
            "expires_at": "2026-12-01T10:15:00Z"})
    );

    let paid = succeeded(order.id, payment_id, 2100, "EUR");
    deliver(&saga, &paid).await;
    assert_eq!(saga.status(order.id).await, "PAID");
    assert_eq!(
        payment_deadlines(&saga, order.id).await,
        0,
        "no longer waits"
    );

    // The same event again, the same news in a new event, and the checkout reported
    // late: one effect, and the payment is not taken back to pending.
    redeliver(&saga, &paid, 1).await;
    deliver(&saga, &succeeded(order.id, payment_id, 2100, "EUR")).await;
    deliver(&saga, &created(order.id, payment_id)).await;

    let shown = read(&saga, &order.user, order.id).await;
    assert_eq!(shown["status"], "PAID");
    assert_eq!(shown["payment"]["status"], "succeeded");
    assert_eq!(shown["payment"]["checkout_url"], json!(url));
    assert_eq!(shown["refund"], Value::Null);
    assert_eq!(shown["cancellation_reason"], Value::Null);
    keeps_its_stock(&saga, order.id).await;
    assert_eq!(saga.stock(order.product).await, 7);
    let list: Value = saga
        .call(Method::GET, "/api/v1/orders", &order.user, None)
        .await
        .json()
        .await
        .expect("page");
    assert_eq!(list["items"][0]["payment"], shown["payment"]);
    let events = timeline(&saga, order.id).await;
    assert_eq!(
        events[2..],
        [
            "payment.requested",
            "payment.created",
            "payment.succeeded",
            "payment.succeeded",
            "payment.created"
        ],
        "the payment's events are on the timeline"
    );
}

#[tokio::test]
async fn a_failed_payment_cancels_the_order_announces_one_cancel_and_releases_its_stock_once() {
    let saga = Saga::start().await;
    let order = confirmed(&saga, 10, 500, 3).await;
    let payment_id = Uuid::now_v7();
    deliver(&saga, &created(order.id, payment_id)).await;

    let declined = failed(order.id, payment_id);
    deliver(&saga, &declined).await;
    assert_eq!(saga.status(order.id).await, "CANCELLED");
    redeliver(&saga, &declined, 1).await;
    deliver(&saga, &failed(order.id, payment_id)).await;

    let shown = read(&saga, &order.user, order.id).await;
    assert_eq!(shown["status"], "CANCELLED");
    assert_eq!(shown["cancellation_reason"], "payment_failed");
    assert_eq!(shown["payment"]["status"], "failed");
    assert_eq!(shown["refund"], Value::Null, "nothing was captured");
    let cancels = published(&saga, "order.cancelled", order.id).await;
    assert_eq!(
        cancels,
        [json!({"order_id": order.id, "reason": "payment_failed"})]
    );
    assert_eq!(payment_deadlines(&saga, order.id).await, 0);
    released(&saga, order.id).await;
    assert_eq!(saga.stock(order.product).await, 10);
    assert_eq!(
        saga.count_products(
            "SELECT count(*) FROM outbox WHERE event_type = 'inventory.stock.released'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_payment_of_another_amount_or_currency_cancels_the_order_for_amount_mismatch() {
    let saga = Saga::start().await;
    let short = confirmed(&saga, 10, 400, 2).await;
    let dollars = confirmed(&saga, 10, 400, 2).await;

    for (order, paid) in [
        (&short, succeeded(short.id, Uuid::now_v7(), 799, "EUR")),
        (&dollars, succeeded(dollars.id, Uuid::now_v7(), 800, "USD")),
    ] {
        deliver(&saga, &paid).await;
        let shown = read(&saga, &order.user, order.id).await;
        assert_eq!(shown["status"], "CANCELLED", "{shown}");
        assert_eq!(shown["cancellation_reason"], "amount_mismatch");
        assert_eq!(shown["payment"]["status"], "succeeded");
        assert_eq!(
            shown["refund"],
            json!({"status": "pending"}),
            "payment-service refunds the charge"
        );
        assert_eq!(
            published(&saga, "order.cancelled", order.id).await,
            [json!({"order_id": order.id, "reason": "amount_mismatch"})]
        );
        assert_eq!(payment_deadlines(&saga, order.id).await, 0);
        released(&saga, order.id).await;
        assert_eq!(saga.stock(order.product).await, 10);
    }
}

#[tokio::test]
async fn a_failed_payment_after_the_order_was_paid_changes_nothing() {
    let saga = Saga::start().await;
    let order = confirmed(&saga, 10, 250, 4).await;
    let payment_id = Uuid::now_v7();
    deliver(&saga, &succeeded(order.id, payment_id, 1000, "EUR")).await;
    assert_eq!(saga.status(order.id).await, "PAID");

    deliver(&saga, &failed(order.id, payment_id)).await;

    let shown = read(&saga, &order.user, order.id).await;
    assert_eq!(shown["status"], "PAID");
    assert_eq!(shown["payment"]["status"], "succeeded");
    assert_eq!(shown["cancellation_reason"], Value::Null);
    keeps_its_stock(&saga, order.id).await;
    assert_eq!(saga.stock(order.product).await, 6);
}

#[tokio::test]
async fn cancelling_a_paid_order_releases_its_stock_and_shows_its_refund_until_it_is_done() {
    let saga = Saga::start().await;
    let order = confirmed(&saga, 5, 700, 3).await;
    let payment_id = Uuid::now_v7();
    deliver(&saga, &succeeded(order.id, payment_id, 2100, "EUR")).await;
    assert_eq!(saga.status(order.id).await, "PAID");

    let res = saga.cancel(&order.user, order.id).await;
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = res.json().await.expect("order");
    assert_eq!(body["status"], "CANCELLED");
    assert_eq!(body["cancellation_reason"], "customer");
    assert_eq!(body["refund"], json!({"status": "pending"}));
    assert_eq!(
        published(&saga, "order.cancelled", order.id).await,
        [json!({"order_id": order.id, "reason": "customer"})]
    );
    released(&saga, order.id).await;
    assert_eq!(saga.stock(order.product).await, 5);

    let refund = refunded(order.id, payment_id, 2100);
    deliver(&saga, &refund).await;
    redeliver(&saga, &refund, 1).await;
    let shown = read(&saga, &order.user, order.id).await;
    assert_eq!(shown["status"], "CANCELLED");
    assert_eq!(shown["refund"], json!({"status": "succeeded"}));
    assert_eq!(shown["payment"]["status"], "succeeded");
    assert!(timeline(&saga, order.id)
        .await
        .contains(&"payment.refunded".to_owned()));

    let again = saga.cancel(&order.user, order.id).await;
    assert_eq!(again.status().as_u16(), 409);
    assert_eq!(published(&saga, "order.cancelled", order.id).await.len(), 1);
}

#[tokio::test]
async fn a_paid_order_no_longer_counts_against_the_open_order_cap() {
    let saga = Saga::start_configured(|settings| settings.orders.max_open_per_user = 1).await;
    let order = confirmed(&saga, 10, 100, 1).await;
    let another = order_body(&[(order.product, 1)]);
    let res = saga
        .call(
            Method::POST,
            "/api/v1/orders",
            &order.user,
            Some(another.clone()),
        )
        .await;
    assert_eq!(res.status().as_u16(), 409, "a CONFIRMED order is open");

    deliver(&saga, &succeeded(order.id, Uuid::now_v7(), 100, "EUR")).await;
    assert_eq!(saga.status(order.id).await, "PAID");
    let res = saga
        .call(Method::POST, "/api/v1/orders", &order.user, Some(another))
        .await;
    assert_eq!(res.status().as_u16(), 202, "a PAID order is not");
}

#[tokio::test]
async fn payment_events_about_an_order_never_stored_or_still_pending_are_dead_lettered() {
    let mut saga = Saga::start().await;
    let paid = confirmed(&saga, 10, 100, 1).await;
    // An order that stays PENDING: nobody answers its stock request.
    saga.stop_products().await;
    let pending = saga.place(&paid.user, &[(paid.product, 1)]).await;

    let stranger = Uuid::now_v7();
    saga.publish(
        topics::PAYMENT_SUCCEEDED,
        &succeeded(stranger, Uuid::now_v7(), 100, "EUR"),
    )
    .await;
    saga.publish(topics::PAYMENT_FAILED, &failed(pending, Uuid::now_v7()))
        .await;
    eventually(WITHIN, "both are dead-lettered", || async {
        saga.env.dead_letters().await == 2
    })
    .await;
    assert_eq!(saga.status(pending).await, "PENDING");
    assert!(timeline(&saga, pending)
        .await
        .iter()
        .all(|t| !t.starts_with("payment.")));

    // The consumers go on: a payment of a CONFIRMED order is applied.
    let success = succeeded(paid.id, Uuid::now_v7(), 100, "EUR");
    deliver(&saga, &success).await;
    assert_eq!(saga.status(paid.id).await, "PAID");
}

#[tokio::test]
async fn an_event_about_another_payment_of_the_order_is_dead_lettered_and_changes_nothing() {
    let saga = Saga::start().await;
    let order = confirmed(&saga, 10, 100, 1).await;
    let payment_id = Uuid::now_v7();
    deliver(&saga, &created(order.id, payment_id)).await;

    let other = failed(order.id, Uuid::now_v7());
    saga.publish(topics::PAYMENT_FAILED, &other).await;
    eventually(WITHIN, "the event is dead-lettered", || async {
        saga.env.dead_letters().await == 1
    })
    .await;

    let shown = read(&saga, &order.user, order.id).await;
    assert_eq!(shown["status"], "CONFIRMED");
    assert_eq!(shown["payment"]["id"], json!(payment_id));
    assert_eq!(shown["payment"]["status"], "pending");
    // A malformed payment event (no amount) is dead-lettered too.
    let broken = payment_event(
        topics::PAYMENT_SUCCEEDED,
        order.id,
        json!({"payment_id": payment_id, "order_id": order.id}),
    );
    saga.publish(topics::PAYMENT_SUCCEEDED, &broken).await;
    eventually(WITHIN, "the broken event is dead-lettered", || async {
        saga.env.dead_letters().await == 2
    })
    .await;
    assert_eq!(saga.status(order.id).await, "CONFIRMED");
    applied_nothing(&saga, &[other.id, broken.id]).await;
}

/// None of `events` reached a timeline.
async fn applied_nothing(saga: &Saga, events: &[Uuid]) {
    let rows: i64 = saga
        .orders_db()
        .await
        .query_one(
            "SELECT count(*) FROM order_events WHERE event_id = ANY($1)",
            &[&events],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(rows, 0);
}
