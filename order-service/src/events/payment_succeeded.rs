//! `payment.succeeded` → a CONFIRMED order becomes PAID and its payment deadline is
//! cleared.
//!
//! The captured amount must be the order's total in its currency. Otherwise the order
//! is CANCELLED `amount_mismatch` and `order.cancelled` makes product-service give the
//! stock back and payment-service refund the charge.
//!
//! A success for an order no longer CONFIRMED changes no status: a PAID order got the
//! same news before; a CANCELLED or EXPIRED one published `order.cancelled`, on which
//! payment-service refunds what it captured, so the order shows that refund as pending.

use async_trait::async_trait;
use comanda_outbox::{deadline, inbox::decode, Envelope, Handler, HandlerError};
use diesel_async::AsyncPgConnection;

use super::payloads::PaymentSucceeded;
use super::{end, expect_refund, locate, payment_deadline, publish, record_payment};
use crate::db::orders;
use crate::domain::payment::PaymentStatus;
use crate::domain::status::{transition, Next, OrderEvent, OrderStatus};

/// Marks orders paid.
pub struct PayOrder {
    /// Full name of `order.cancelled`, the compensation of a mismatched payment.
    pub cancelled_topic: String,
}

#[async_trait]
impl Handler for PayOrder {
    async fn handle(
        &self,
        event: &Envelope,
        conn: &mut AsyncPgConnection,
    ) -> Result<(), HandlerError> {
        let paid: PaymentSucceeded = decode(event)?;
        let mut order = locate(conn, paid.order_id, event).await?;
        let of_total = order.total_cents == Some(paid.amount_cents)
            && order.currency.as_deref() == Some(paid.currency.as_str());
        let outcome = if of_total {
            OrderEvent::PaymentSucceeded
        } else {
            OrderEvent::PaymentAmountMismatch
        };
        let next = transition(order.status, outcome).map_err(HandlerError::permanent)?;
        let captured = PaymentStatus::Succeeded;
        record_payment(conn, &mut order, paid.payment_id, captured, None).await?;
        let Next::Move(status) = next else {
            if matches!(
                order.status,
                OrderStatus::Cancelled | OrderStatus::Expired | OrderStatus::Rejected
            ) {
                expect_refund(conn, &order).await?;
            }
            tracing::info!(order_id = %order.id, status = %order.status, "payment outcome ignored");
            return Ok(());
        };
        let Some(reason) = outcome.cancellation_reason() else {
            orders::set_status(conn, order.id, status).await?;
            deadline::clear(conn, payment_deadline::DEADLINE, order.id).await?;
            return Ok(());
        };
        end(conn, &order, status, reason).await?;
        let cancel = super::cancelled(order.id, reason.into())
            .map_err(HandlerError::permanent)?
            .caused_by(event);
        publish(conn, &self.cancelled_topic, order.id, &cancel).await?;
        tracing::warn!(
            order_id = %order.id,
            amount_cents = paid.amount_cents,
            currency = %paid.currency,
            total_cents = ?order.total_cents,
            "the payment is not the order's total; order cancelled, payment to be refunded"
        );
        Ok(())
    }
}
