//! `payment.refunded` → the order shows its refund as `succeeded`.
//!
//! payment-service refunds the captured payment of an order that ended CANCELLED or
//! EXPIRED; the order's status stays as it is. A refund means the payment was
//! captured, so the payment shows `succeeded` too, should that event not have arrived.

use async_trait::async_trait;
use comanda_outbox::{inbox::decode, Envelope, Handler, HandlerError};
use diesel_async::AsyncPgConnection;

use super::payloads::PaymentRefunded;
use super::{locate, record_payment};
use crate::db::payments;
use crate::domain::payment::{PaymentStatus, RefundStatus};

/// Records refunds.
pub struct RecordRefund;

#[async_trait]
impl Handler for RecordRefund {
    async fn handle(
        &self,
        event: &Envelope,
        conn: &mut AsyncPgConnection,
    ) -> Result<(), HandlerError> {
        let refunded: PaymentRefunded = decode(event)?;
        let mut order = locate(conn, refunded.order_id, event).await?;
        let captured = PaymentStatus::Succeeded;
        record_payment(conn, &mut order, refunded.payment_id, captured, None).await?;
        let known = order.refund.map(|r| r.status);
        let status = RefundStatus::advance(known, RefundStatus::Succeeded);
        payments::record_refund(conn, order.id, status).await?;
        Ok(())
    }
}
