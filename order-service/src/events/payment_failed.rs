//! `payment.failed` → a CONFIRMED order becomes CANCELLED `payment_failed`, and
//! `order.cancelled` makes product-service give its stock back (once) and
//! payment-service void the checkout.
//!
//! A failure for an order no longer CONFIRMED changes no status — above all one after
//! the payment succeeded: the order stays PAID and its payment `succeeded`.

use async_trait::async_trait;
use comanda_outbox::{inbox::decode, Envelope, Handler, HandlerError};
use diesel_async::AsyncPgConnection;

use super::payloads::PaymentFailed;
use super::{end, locate, publish, record_payment};
use crate::domain::payment::PaymentStatus;
use crate::domain::status::{transition, Next, OrderEvent};

/// Cancels orders whose payment failed.
pub struct FailOrder {
    /// Full name of `order.cancelled`.
    pub cancelled_topic: String,
}

#[async_trait]
impl Handler for FailOrder {
    async fn handle(
        &self,
        event: &Envelope,
        conn: &mut AsyncPgConnection,
    ) -> Result<(), HandlerError> {
        let failed: PaymentFailed = decode(event)?;
        let mut order = locate(conn, failed.order_id, event).await?;
        let outcome = OrderEvent::PaymentFailed;
        let next = transition(order.status, outcome).map_err(HandlerError::permanent)?;
        let reported = PaymentStatus::Failed;
        record_payment(conn, &mut order, failed.payment_id, reported, None).await?;
        let (Next::Move(status), Some(reason)) = (next, outcome.cancellation_reason()) else {
            tracing::info!(order_id = %order.id, status = %order.status, "payment outcome ignored");
            return Ok(());
        };
        end(conn, &order, status, reason).await?;
        let cancel = super::cancelled(order.id, reason.into())
            .map_err(HandlerError::permanent)?
            .caused_by(event);
        publish(conn, &self.cancelled_topic, order.id, &cancel).await?;
        tracing::info!(
            order_id = %order.id,
            reason = %failed.reason,
            "payment failed; order cancelled, stock released"
        );
        Ok(())
    }
}
