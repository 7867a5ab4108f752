//! `inventory.stock.reserved` → a PENDING order becomes CONFIRMED, priced.
//!
//! A reservation whose prices make a total that does not fit in cents (a price stored
//! before prices were bounded) cannot be confirmed: the order is REJECTED
//! `total_out_of_range` and `order.cancelled` gives the held stock back. Dead-lettering
//! the reply instead would leave the order PENDING and the stock held until the saga
//! deadline gave up on an answer that had in fact arrived.

use async_trait::async_trait;
use comanda_outbox::{inbox::decode, topics, Envelope, Handler, HandlerError};
use diesel_async::AsyncPgConnection;

use super::payloads::{OrderCancelled, ReservedLine, StockReserved};
use super::{publish, SOURCE};
use crate::db::orders::{self, Line, Order};
use crate::domain::status::{transition, Next, OrderEvent, RejectionReason};
use crate::domain::total::total;

/// Confirms orders whose stock is held.
pub struct ConfirmOrder {
    /// Full name of `order.cancelled`, the compensation of an order it cannot price.
    pub cancelled_topic: String,
}

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
        let held = order
            .lines
            .iter()
            .map(|line| {
                let held = reserved
                    .lines
                    .iter()
                    .find(|r| r.product_id == line.product_id)
                    .ok_or_else(|| HandlerError::permanent("a reserved line is missing"))?;
                Ok((line, held))
            })
            .collect::<Result<Vec<(&Line, &ReservedLine)>, HandlerError>>()?;
        let Ok(total) = total(
            held.iter()
                .map(|(line, held)| (held.unit_price_cents, line.quantity)),
        ) else {
            return self.reject_unpriceable(conn, &order, event).await;
        };
        for (line, held) in held {
            orders::price_line(
                conn,
                order.id,
                line.product_id,
                held.unit_price_cents,
                &held.name,
            )
            .await?;
        }
        orders::set_total(conn, order.id, total).await?;
        orders::set_status(conn, order.id, status).await?;
        Ok(())
    }
}

impl ConfirmOrder {
    /// REJECTS `order` for `total_out_of_range` and publishes `order.cancelled`, on
    /// which product-service releases what it holds for the order.
    async fn reject_unpriceable(
        &self,
        conn: &mut AsyncPgConnection,
        order: &Order,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        let next = transition(order.status, OrderEvent::TotalOutOfRange)
            .map_err(HandlerError::permanent)?;
        let Next::Move(_rejected) = next else {
            return Ok(());
        };
        orders::reject(conn, order.id, RejectionReason::TotalOutOfRange, None).await?;
        let data = serde_json::to_value(OrderCancelled { order_id: order.id })
            .map_err(HandlerError::permanent)?;
        let cancel = Envelope::new(
            topics::ORDER_CANCELLED,
            1,
            SOURCE,
            order.id.to_string(),
            data,
        )
        .caused_by(event);
        publish(conn, &self.cancelled_topic, order.id, &cancel).await?;
        tracing::warn!(
            order_id = %order.id,
            "the reserved prices make a total out of range; order rejected, stock released"
        );
        Ok(())
    }
}
