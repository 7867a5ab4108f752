//! What order-service publishes and how it reacts to stock replies and payments.
//!
//! - [`payloads`]: the `data` of the events it publishes and consumes.
//! - [`stock_reserved`]: `inventory.stock.reserved` → CONFIRMED, priced, and
//!   `payment.requested` with the payment deadline (or REJECTED `total_out_of_range`,
//!   compensated, when the prices make a total that does not fit).
//! - [`stock_failed`]: `inventory.stock.failed` → REJECTED, with the shortfalls.
//! - [`stock_released`]: `inventory.stock.released` → the timeline only.
//! - [`stock_request`]: the stock request (`order.created.pending`) and its saga
//!   deadline: sent again while unanswered, then REJECTED `timeout`.
//! - [`payment_created`]: `payment.created` → the order shows its checkout.
//! - [`payment_succeeded`]: `payment.succeeded` → PAID (or CANCELLED
//!   `amount_mismatch`, compensated, when the amount is not the total).
//! - [`payment_failed`]: `payment.failed` → CANCELLED `payment_failed`, compensated.
//! - [`payment_refunded`]: `payment.refunded` → the order shows its refund.
//! - [`payment_deadline`]: a CONFIRMED order not paid in time → EXPIRED, compensated.
//!
//! Every event of an order, published or consumed, is also written to its timeline
//! (`order_events`) in the same transaction.

pub mod payloads;
pub mod payment_created;
pub mod payment_deadline;
pub mod payment_failed;
pub mod payment_refunded;
pub mod payment_succeeded;
pub mod stock_failed;
pub mod stock_released;
pub mod stock_request;
pub mod stock_reserved;

use comanda_kit::correlation::CorrelationId;
use comanda_outbox::{append, deadline, topics, Envelope, HandlerError};
use diesel::OptionalExtension;
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use self::payloads::{CancelReason, OrderCancelled};
use crate::db::orders::{self, Order};
use crate::db::{payments, timeline};
use crate::domain::payment::{same_payment, Payment, PaymentStatus, RefundStatus};
use crate::domain::reasons::CancellationReason;
use crate::domain::status::OrderStatus;

/// `source` of every event order-service writes.
pub const SOURCE: &str = "order-service";
/// Consumer group (and dedupe scope) of order-service's inbox.
pub const GROUP: &str = "order-service";

/// Appends `event` about order `order_id` to the outbox (topic `topic`) and to the
/// order's timeline. Call it after the order's change, under its row lock.
pub async fn publish(
    conn: &mut AsyncPgConnection,
    topic: &str,
    order_id: Uuid,
    event: &Envelope,
) -> diesel::QueryResult<()> {
    append(conn, topic, event).await?;
    timeline::record(conn, order_id, event).await
}

/// Locks the order an event is about and records the event on its timeline.
///
/// An event about an order this service never stored cannot be applied: it is
/// dead-lettered for a human to look at.
pub(crate) async fn locate(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    event: &Envelope,
) -> Result<Order, HandlerError> {
    let order = orders::lock(conn, order_id)
        .await
        .optional()?
        .ok_or_else(|| HandlerError::permanent(format!("unknown order {order_id}")))?;
    timeline::record(conn, order_id, event).await?;
    Ok(order)
}

/// [`locate`]s the order a stock reply is about and clears the stock request's
/// deadline: an answer, whatever it says, ends the wait.
pub(crate) async fn receive(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    event: &Envelope,
) -> Result<Order, HandlerError> {
    let order = locate(conn, order_id, event).await?;
    deadline::clear(conn, stock_request::DEADLINE, order_id).await?;
    Ok(order)
}

/// `order.cancelled` about order `order_id` for `reason`, in a flow of its own until
/// the caller places it (`correlated`, `caused_by`).
pub fn cancelled(order_id: Uuid, reason: CancelReason) -> serde_json::Result<Envelope> {
    let data = serde_json::to_value(OrderCancelled { order_id, reason })?;
    Ok(Envelope::new(
        topics::ORDER_CANCELLED,
        1,
        SOURCE,
        order_id.to_string(),
        data,
    ))
}

/// The flow order `order_id` began in (the correlation id of its first stock
/// request), for the events of a deadline, which no message caused.
pub(crate) async fn flow_of(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
) -> diesel::QueryResult<CorrelationId> {
    let first = timeline::first_of_type(conn, order_id, topics::ORDER_CREATED_PENDING).await?;
    Ok(first
        .and_then(|e| CorrelationId::parse(&e.correlation_id))
        .unwrap_or_default())
}

/// Ends the locked `order` as `status` (CANCELLED or EXPIRED) for `reason` and clears
/// whatever it waited for (its stock reply, its payment). A captured payment is now
/// expected back: the order shows its refund as pending, since payment-service
/// refunds a captured payment when it sees the `order.cancelled` the caller
/// publishes with it.
pub(crate) async fn end(
    conn: &mut AsyncPgConnection,
    order: &Order,
    status: OrderStatus,
    reason: CancellationReason,
) -> diesel::QueryResult<()> {
    orders::end(conn, order.id, status, reason).await?;
    deadline::clear(conn, stock_request::DEADLINE, order.id).await?;
    deadline::clear(conn, payment_deadline::DEADLINE, order.id).await?;
    expect_refund(conn, order).await
}

/// Records that `order`'s captured payment will be refunded, when it has one and no
/// refund is recorded yet. Call it once the order has ended.
pub(crate) async fn expect_refund(
    conn: &mut AsyncPgConnection,
    order: &Order,
) -> diesel::QueryResult<()> {
    let captured = order
        .payment
        .as_ref()
        .is_some_and(|p| p.status == PaymentStatus::Succeeded);
    if captured && order.refund.is_none() {
        payments::record_refund(conn, order.id, RefundStatus::Pending).await?;
    }
    Ok(())
}

/// Records on the locked `order` (row and copy) that its payment `payment_id` reported
/// `reported`, with its `checkout` if the event carries one. The status only moves
/// forward ([`PaymentStatus::advance`]): a late `payment.created` or a failure after a
/// success leaves it as it was.
///
/// An event naming another payment than the one the order has is refused (dead-lettered).
pub(crate) async fn record_payment(
    conn: &mut AsyncPgConnection,
    order: &mut Order,
    payment_id: Uuid,
    reported: PaymentStatus,
    checkout: Option<payments::Checkout<'_>>,
) -> Result<(), HandlerError> {
    same_payment(order.payment.as_ref(), payment_id).map_err(HandlerError::permanent)?;
    let known = order.payment.as_ref().map(|p| p.status);
    let status = PaymentStatus::advance(known, reported);
    payments::record(conn, order.id, payment_id, status, checkout).await?;
    let previous = order.payment.take();
    order.payment = Some(Payment {
        id: payment_id,
        status,
        checkout_url: checkout
            .map(|c| c.url.to_owned())
            .or_else(|| previous.as_ref().and_then(|p| p.checkout_url.clone())),
        expires_at: checkout
            .map(|c| c.expires_at)
            .or_else(|| previous.and_then(|p| p.expires_at)),
    });
    Ok(())
}
