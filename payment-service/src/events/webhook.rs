//! A verified provider webhook, applied in ONE transaction: the event id claimed
//! (unique), the payment's change, and its outbox event. The route answers 2xx only
//! after that transaction commits, and a redelivered event id changes nothing.
//!
//! - `checkout.session.completed`: PENDING → SUCCEEDED + `payment.succeeded` (the
//!   captured amount, which order-service checks against the order's total). On a
//!   payment whose order no longer wants it (VOIDED, the CANCELLED tombstone, FAILED)
//!   the capture is refunded instead: REFUNDING and the refund's deadline; no
//!   `payment.succeeded`, so the order is not revived.
//! - `checkout.session.payment_failed`: PENDING → FAILED + `payment.failed {reason}`;
//!   after a success it changes nothing.
//! - `charge.refunded` and other types are recorded only: a refund is marked from the
//!   refund call's own answer (see `calls::refund`).
//!
//! The payment is found by the event's `reference` (the payment id), else by its
//! session. An event about no payment of ours is recorded as `unknown_payment` and
//! acknowledged: no retry could ever apply it.

use chrono::Utc;
use comanda_outbox::deadline;
use comanda_outbox::topics::{PAYMENT_FAILED, PAYMENT_SUCCEEDED};
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::payloads::{PaymentFailed, PaymentSucceeded};
use super::{publish, PaymentTopics};
use crate::calls;
use crate::db::payments::{self, Payment};
use crate::db::webhook_events::{self, Outcome};
use crate::domain::status::{transition, Next, PaymentEvent, PaymentStatus};
use crate::provider::webhook::{Kind, WebhookEvent};

/// Why a payment failed when the provider gave no reason.
const UNKNOWN_REASON: &str = "unknown";

/// What applying a webhook did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The event id was applied before: nothing happened now.
    Duplicate,
    /// The event was stored with this outcome; the payment reached `status` if it changed.
    Stored {
        /// What it did.
        outcome: Outcome,
        /// The payment's new status, when it changed.
        status: Option<PaymentStatus>,
    },
}

/// Applies `event` in the caller's transaction.
pub async fn apply(
    conn: &mut AsyncPgConnection,
    event: &WebhookEvent,
    topics: &PaymentTopics,
) -> QueryResult<Applied> {
    if !webhook_events::claim(conn, event).await? {
        return Ok(Applied::Duplicate);
    }
    let Some(payment) = payment_of(conn, event).await? else {
        tracing::warn!(event_id = %event.id, reference = %event.data.reference, "webhook about no payment of ours");
        webhook_events::settle(conn, &event.id, None, Outcome::UnknownPayment).await?;
        return Ok(Applied::Stored {
            outcome: Outcome::UnknownPayment,
            status: None,
        });
    };
    let status = match event.kind() {
        Kind::Completed => captured(conn, &payment, event, topics).await?,
        Kind::PaymentFailed => declined(conn, &payment, event, topics).await?,
        Kind::Refunded | Kind::Other => None,
    };
    let outcome = if status.is_some() {
        Outcome::Applied
    } else {
        Outcome::Ignored
    };
    webhook_events::settle(conn, &event.id, Some(payment.id), outcome).await?;
    tracing::info!(event_id = %event.id, event_type = %event.event_type, payment_id = %payment.id,
        outcome = outcome.as_str(), "webhook applied");
    Ok(Applied::Stored { outcome, status })
}

/// The payment `event` is about, locked.
async fn payment_of(
    conn: &mut AsyncPgConnection,
    event: &WebhookEvent,
) -> QueryResult<Option<Payment>> {
    if let Ok(id) = Uuid::parse_str(&event.data.reference) {
        if let Some(payment) = payments::lock(conn, id).await? {
            return Ok(Some(payment));
        }
    }
    payments::lock_by_session(conn, &event.data.session_id).await
}

/// A capture: SUCCEEDED and `payment.succeeded`, or REFUNDING and the refund.
async fn captured(
    conn: &mut AsyncPgConnection,
    payment: &Payment,
    event: &WebhookEvent,
    topics: &PaymentTopics,
) -> QueryResult<Option<PaymentStatus>> {
    let Ok(Next::Move(status)) = transition(payment.status, PaymentEvent::Captured) else {
        return Ok(None);
    };
    let data = &event.data;
    payments::captured(conn, payment, status, data.amount_cents, &data.session_id).await?;
    // Whatever was still to be done for the session is moot: it was paid.
    deadline::clear(conn, calls::CREATE_SESSION, payment.id).await?;
    deadline::clear(conn, calls::VOID_SESSION, payment.id).await?;
    match status {
        PaymentStatus::Succeeded => {
            let succeeded = PaymentSucceeded {
                payment_id: payment.id,
                order_id: payment.order_id,
                amount_cents: data.amount_cents,
                currency: data.currency.clone(),
            };
            publish(
                conn,
                &topics.succeeded,
                PAYMENT_SUCCEEDED,
                payment,
                &succeeded,
            )
            .await?;
        }
        _refunding => {
            tracing::warn!(payment_id = %payment.id, status = %payment.status,
                "captured after its order was given up; refunding");
            deadline::schedule(conn, calls::REFUND, payment.id, Utc::now()).await?;
        }
    }
    Ok(Some(status))
}

/// A failed charge: FAILED and `payment.failed`.
async fn declined(
    conn: &mut AsyncPgConnection,
    payment: &Payment,
    event: &WebhookEvent,
    topics: &PaymentTopics,
) -> QueryResult<Option<PaymentStatus>> {
    let Ok(Next::Move(status)) = transition(payment.status, PaymentEvent::Declined) else {
        return Ok(None);
    };
    let reason = event
        .data
        .failure_reason
        .clone()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| UNKNOWN_REASON.to_owned());
    payments::failed(conn, payment.id, &reason).await?;
    deadline::clear(conn, calls::CREATE_SESSION, payment.id).await?;
    let failed = PaymentFailed {
        payment_id: payment.id,
        order_id: payment.order_id,
        reason,
    };
    publish(conn, &topics.failed, PAYMENT_FAILED, payment, &failed).await?;
    Ok(Some(status))
}
