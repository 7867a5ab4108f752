//! `inventory.stock.reserved` → a PENDING order becomes CONFIRMED, priced.

use async_trait::async_trait;
use comanda_outbox::{inbox::decode, Envelope, Handler, HandlerError};
use diesel_async::AsyncPgConnection;

use super::payloads::StockReserved;
use crate::db::orders;
use crate::domain::status::{transition, Next, OrderEvent};

/// Confirms orders whose stock is held.
pub struct ConfirmOrder;

#[async_trait]
impl Handler for ConfirmOrder {
    async fn handle(
        &self,
        event: &Envelope,
        conn: &mut AsyncPgConnection,
    ) -> Result<(), HandlerError> {
        let reserved: StockReserved = decode(event)?;
        let order = super::receive(conn, reserved.order_id, event).await?;
        let next =
            transition(order.status, OrderEvent::StockReserved).map_err(HandlerError::permanent)?;
        let Next::Move(status) = next else {
            tracing::info!(order_id = %order.id, status = %order.status, "stock reply ignored");
            return Ok(());
        };
        let mut total: i64 = 0;
        for line in &order.lines {
            let held = reserved
                .lines
                .iter()
                .find(|r| r.product_id == line.product_id)
                .ok_or_else(|| HandlerError::permanent("a reserved line is missing"))?;
            orders::price_line(
                conn,
                order.id,
                line.product_id,
                held.unit_price_cents,
                &held.name,
            )
            .await?;
            total = held
                .unit_price_cents
                .checked_mul(i64::from(line.quantity))
                .and_then(|cost| total.checked_add(cost))
                .ok_or_else(|| HandlerError::permanent("the total overflows"))?;
        }
        orders::set_total(conn, order.id, total).await?;
        orders::set_status(conn, order.id, status).await?;
        Ok(())
    }
}
