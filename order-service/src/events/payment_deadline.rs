//! The payment deadline of a CONFIRMED order.
//!
//! [`super::stock_reserved`] schedules a deadline of kind [`DEADLINE`] when it confirms
//! an order and asks for its payment, in the same transaction: at the checkout's close
//! (`pay_by`, `payment.timeout` from then) plus `payment.settlement_grace`, the time a
//! payment made at the last moment may take to be reported (webhook retries, restarts,
//! relay, broker). Firing at `pay_by` itself would expire, then refund, orders paid in
//! time. Any end of the wait clears it: the payment's success or failure, a
//! cancel. When it fires first, the order — under its row lock — is still CONFIRMED
//! and unpaid: it becomes EXPIRED, and `order.cancelled` (reason `expired`) makes
//! product-service give the stock back and payment-service void the checkout (or
//! refund a payment captured at the last moment). Otherwise the wait had ended and
//! the deadline is done. Nothing is kept in memory: the deadline survives restarts and
//! fires once however many instances run.

use async_trait::async_trait;
use comanda_outbox::deadline::{self, DeadlineHandler, Due};
use diesel::OptionalExtension;
use diesel_async::AsyncPgConnection;

use super::{end, flow_of, publish};
use crate::db::orders;
use crate::domain::status::{transition, Next, OrderEvent};

/// Deadline kind of an order's payment.
pub const DEADLINE: &str = "order.payment";

/// Expires a CONFIRMED order that was not paid in time.
pub struct PaymentDeadline {
    /// Full name of `order.cancelled`.
    pub cancelled_topic: String,
}

#[async_trait]
impl DeadlineHandler for PaymentDeadline {
    async fn fire(
        &self,
        due: &Due,
        conn: &mut AsyncPgConnection,
    ) -> anyhow::Result<deadline::Next> {
        let Some(order) = orders::lock(conn, due.aggregate_id).await.optional()? else {
            return Ok(deadline::Next::Done);
        };
        let event = OrderEvent::PaymentTimedOut;
        let (Next::Move(status), Some(reason)) = (
            transition(order.status, event)?,
            event.cancellation_reason(),
        ) else {
            return Ok(deadline::Next::Done);
        };
        end(conn, &order, status, reason).await?;
        // The order's own flow: the expiry is the last step of what its request began.
        let correlation_id = flow_of(conn, order.id).await?;
        let cancel = super::cancelled(order.id, reason.into())?.correlated(correlation_id);
        publish(conn, &self.cancelled_topic, order.id, &cancel).await?;
        tracing::warn!(
            order_id = %order.id,
            "order not paid by its payment deadline; expired, stock released"
        );
        Ok(deadline::Next::Expired)
    }
}
