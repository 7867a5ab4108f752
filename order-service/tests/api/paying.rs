//! What the payment tests share: a CONFIRMED order, payment-service's events put on
//! their topics as its relay would publish them, and counts of what order-service did.

use comanda_kit::auth::Role;
use comanda_outbox::Envelope;
use comanda_testkit::eventually;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{token, Saga, WITHIN};

/// An order placed by a customer of its own.
pub struct Placed {
    /// The order.
    pub id: Uuid,
    /// The customer.
    pub user_id: Uuid,
    /// The customer's token.
    pub user: String,
    /// The one product it holds.
    pub product: Uuid,
}

/// A new customer's order of `quantity` units of a product of `stock` at `price_cents`.
pub async fn place(saga: &Saga, stock: i32, price_cents: i64, quantity: i64) -> Placed {
    let product = saga.product(stock, price_cents).await;
    let user_id = Uuid::now_v7();
    let user = token(user_id, &[Role::User]);
    let id = saga.place(&user, &[(product, quantity)]).await;
    Placed {
        id,
        user_id,
        user,
        product,
    }
}

/// [`place`]d and CONFIRMED (awaiting payment).
pub async fn confirmed(saga: &Saga, stock: i32, price_cents: i64, quantity: i64) -> Placed {
    let order = place(saga, stock, price_cents, quantity).await;
    saga.wait_for(order.id, "CONFIRMED").await;
    order
}

/// An event payment-service would publish about order `order_id` on `topic`.
pub fn payment_event(topic: &str, order_id: Uuid, data: Value) -> Envelope {
    Envelope::new(topic, 1, "payment-service", order_id.to_string(), data)
}

/// `payment.created` for `order_id`'s payment `payment_id`.
pub fn created(order_id: Uuid, payment_id: Uuid) -> Envelope {
    payment_event(
        comanda_outbox::topics::PAYMENT_CREATED,
        order_id,
        json!({
            "payment_id": payment_id,
            "order_id": order_id,
            "checkout_url": format!("http://127.0.0.1:5030/checkout/cs_{}", payment_id.simple()),
            "expires_at": "2026-12-01T10:15:00Z",
        }),
    )
}

/// `payment.succeeded` of `amount_cents` in `currency`.
pub fn succeeded(order_id: Uuid, payment_id: Uuid, amount_cents: i64, currency: &str) -> Envelope {
    payment_event(
        comanda_outbox::topics::PAYMENT_SUCCEEDED,
        order_id,
        json!({
            "payment_id": payment_id,
            "order_id": order_id,
            "amount_cents": amount_cents,
            "currency": currency,
        }),
    )
}

/// `payment.failed`, the card declined.
pub fn failed(order_id: Uuid, payment_id: Uuid) -> Envelope {
    payment_event(
        comanda_outbox::topics::PAYMENT_FAILED,
        order_id,
        json!({"payment_id": payment_id, "order_id": order_id, "reason": "card_declined"}),
    )
}

/// `payment.refunded` of `amount_cents` euros.
pub fn refunded(order_id: Uuid, payment_id: Uuid, amount_cents: i64) -> Envelope {
    payment_event(
        comanda_outbox::topics::PAYMENT_REFUNDED,
        order_id,
        json!({
            "payment_id": payment_id,
            "order_id": order_id,
            "refund_id": format!("re_{}", Uuid::new_v4().simple()),
            "amount_cents": amount_cents,
            "currency": "EUR",
        }),
    )
}

/// Publishes `event` on its topic and waits until order-service has applied it (every
/// payment event it applies is on its order's timeline, whatever its effect).
pub async fn deliver(saga: &Saga, event: &Envelope) {
    saga.publish(&event.event_type, event).await;
    applied(saga, event).await;
}

/// Waits until `event` is on its order's timeline.
pub async fn applied(saga: &Saga, event: &Envelope) {
    let db = saga.orders_db().await;
    eventually(
        WITHIN,
        &format!("{} is applied", event.event_type),
        || async {
            let rows: i64 = db
                .query_one(
                    "SELECT count(*) FROM order_events WHERE event_id = $1",
                    &[&event.id],
                )
                .await
                .expect("count")
                .get(0);
            rows == 1
        },
    )
    .await;
}

/// Publishes `event` again (same id, as Kafka may redeliver it) and waits until
/// order-service's inbox has skipped it as a duplicate, `skipped` of its topic so far.
pub async fn redeliver(saga: &Saga, event: &Envelope, skipped: u64) {
    saga.publish(&event.event_type, event).await;
    eventually(WITHIN, "the duplicate is skipped", || async {
        saga.orders_duplicates_skipped(&event.event_type).await == skipped
    })
    .await;
}

/// Order `id` as its owner `user` reads it.
pub async fn read(saga: &Saga, user: &str, id: Uuid) -> Value {
    let res = saga
        .call(Method::GET, &format!("/api/v1/orders/{id}"), user, None)
        .await;
    assert_eq!(res.status().as_u16(), 200);
    res.json().await.expect("order")
}

/// The `data` of every event of `event_type` order-service wrote for order `id`.
pub async fn published(saga: &Saga, event_type: &str, id: Uuid) -> Vec<Value> {
    saga.orders_db()
        .await
        .query(
            "SELECT payload FROM outbox WHERE event_type = $1 AND kafka_key = $2 ORDER BY id",
            &[&event_type, &id.to_string()],
        )
        .await
        .expect("outbox rows")
        .iter()
        .map(|row| row.get::<_, Value>(0)["data"].clone())
        .collect()
}

/// Open payment deadlines of order `id`.
pub async fn payment_deadlines(saga: &Saga, id: Uuid) -> i64 {
    saga.orders_db()
        .await
        .query_one(
            "SELECT count(*) FROM saga_deadlines WHERE kind = 'order.payment' AND aggregate_id = $1",
            &[&id],
        )
        .await
        .expect("count")
        .get(0)
}

/// When order `id`'s payment deadline falls due.
pub async fn payment_deadline_due(saga: &Saga, id: Uuid) -> chrono::DateTime<chrono::Utc> {
    saga.orders_db()
        .await
        .query_one(
            "SELECT due_at FROM saga_deadlines WHERE kind = 'order.payment' AND aggregate_id = $1",
            &[&id],
        )
        .await
        .expect("the payment deadline")
        .get(0)
}

/// Order `id`'s timeline: its event types, oldest first.
pub async fn timeline(saga: &Saga, id: Uuid) -> Vec<String> {
    saga.orders_db()
        .await
        .query(
            "SELECT event_type FROM order_events WHERE order_id = $1 ORDER BY id",
            &[&id],
        )
        .await
        .expect("timeline")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// Order `id` published no `order.cancelled` and product-service still holds its stock.
pub async fn keeps_its_stock(saga: &Saga, id: Uuid) {
    assert!(
        published(saga, "order.cancelled", id).await.is_empty(),
        "no cancel"
    );
    assert_eq!(saga.reservation(id).await.as_deref(), Some("RESERVED"));
}

/// Waits until product-service has given order `id`'s stock back.
pub async fn released(saga: &Saga, id: Uuid) {
    eventually(WITHIN, "the reservation is released", || async {
        saga.reservation(id).await.as_deref() == Some("RELEASED")
    })
    .await;
}
