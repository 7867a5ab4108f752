//! `inventory.stock.failed` → a PENDING order becomes REJECTED, with the shortfalls.

use async_trait::async_trait;
use comanda_outbox::{inbox::decode, Envelope, Handler, HandlerError};
use diesel_async::AsyncPgConnection;

use super::payloads::StockFailed;
use crate::db::orders;
use crate::domain::reasons::RejectionReason;
use crate::domain::status::{transition, Next, OrderEvent};

/// Rejects orders whose stock could not be held.
pub struct RejectOrder;

#[async_trait]
impl Handler for RejectOrder {
    async fn handle(
        &self,
        event: &Envelope,
        conn: &mut AsyncPgConnection,
    ) -> Result<(), HandlerError> {
        let failed: StockFailed = decode(event)?;
        let order = super::receive(conn, failed.order_id, event).await?;
        let next =
            transition(order.status, OrderEvent::StockFailed).map_err(HandlerError::permanent)?;
        let Next::Move(_rejected) = next else {
            tracing::info!(order_id = %order.id, status = %order.status, "stock reply ignored");
            return Ok(());
        };
        let reason = RejectionReason::InsufficientStock;
        orders::reject(conn, order.id, reason, Some(&failed.shortfalls)).await?;
        Ok(())
    }
}
