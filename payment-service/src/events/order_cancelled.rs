//! `order.cancelled` → the order will not be paid: void its checkout session, refund
//! its captured charge, or leave a tombstone, in the inbox transaction.
//!
//! - CREATING or PENDING → VOIDED, and the deadline that voids the session at the
//!   provider (a session voided while its charge is already processing still
//!   completes; that capture is refunded, see [`super::webhook`]).
//! - SUCCEEDED → REFUNDING, and the deadline that refunds it.
//! - No payment yet (the cancel overtook `payment.requested`) → a CANCELLED
//!   tombstone, so the late request creates nothing.
//! - Anything else has nothing left to undo.

use async_trait::async_trait;
use chrono::Utc;
use comanda_outbox::{deadline, inbox::decode, Envelope, Handler, HandlerError};
use diesel_async::AsyncPgConnection;

use super::payloads::OrderCancelled;
use crate::calls;
use crate::db::payments;
use crate::domain::status::{transition, Next, PaymentEvent, PaymentStatus};

/// Undoes the payment of cancelled orders.
pub struct CancelPayment;

#[async_trait]
impl Handler for CancelPayment {
    async fn handle(
        &self,
        event: &Envelope,
        conn: &mut AsyncPgConnection,
    ) -> Result<(), HandlerError> {
        let cancelled: OrderCancelled = decode(event)?;
        let order_id = cancelled.order_id;
        let payment = match payments::lock_by_order(conn, order_id).await? {
            Some(payment) => payment,
            None => {
                let flow = event.correlation_id.as_str();
                if payments::insert_tombstone(conn, order_id, flow).await? {
                    crate::metrics::payment(PaymentStatus::Cancelled);
                    tracing::info!(%order_id, "order cancelled before its payment was requested");
                    return Ok(());
                }
                // A request of another instance stored the payment meanwhile.
                payments::lock_by_order(conn, order_id)
                    .await?
                    .ok_or_else(|| HandlerError::permanent("the order's payment vanished"))?
            }
        };
        let next = transition(payment.status, PaymentEvent::OrderCancelled)
            .map_err(HandlerError::permanent)?;
        let Next::Move(status) = next else {
            tracing::info!(%order_id, status = %payment.status, "nothing to undo");
            return Ok(());
        };
        payments::set_status(conn, payment.id, status).await?;
        let now = Utc::now();
        match status {
            PaymentStatus::Voided => {
                // No session is to be created any more (a create already under way at
                // the provider is found by the void, see calls::void_session).
                deadline::clear(conn, calls::CREATE_SESSION, payment.id).await?;
                deadline::schedule(conn, calls::VOID_SESSION, payment.id, now).await?;
            }
            PaymentStatus::Refunding => {
                deadline::schedule(conn, calls::REFUND, payment.id, now).await?;
            }
            other => {
                return Err(HandlerError::permanent(format!(
                    "a cancel cannot lead to {other}"
                )))
            }
        }
        crate::metrics::payment(status);
        tracing::info!(%order_id, payment_id = %payment.id, %status, reason = ?cancelled.reason, "order cancelled");
        Ok(())
    }
}
