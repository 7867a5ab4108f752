//! `order.created.pending` → reserve every line or none, and say which.

use async_trait::async_trait;
use comanda_outbox::{append, inbox::decode, topics, Envelope, Handler, HandlerError};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::payloads::{OrderCreatedPending, StockFailed, StockReserved};
use super::SOURCE;
use crate::db::{products, reservations};
use crate::domain::reservation::plan;

/// Reserves stock for new orders.
pub struct ReserveStock {
    /// Full name of `inventory.stock.reserved`.
    pub reserved_topic: String,
    /// Full name of `inventory.stock.failed`.
    pub failed_topic: String,
}

#[async_trait]
impl Handler for ReserveStock {
    async fn handle(
        &self,
        event: &Envelope,
        conn: &mut AsyncPgConnection,
    ) -> Result<(), HandlerError> {
        let order: OrderCreatedPending = decode(event)?;
        if order.lines.is_empty() || order.lines.iter().any(|l| l.quantity <= 0) {
            return Err(HandlerError::permanent(
                "an order needs lines of positive quantity",
            ));
        }
        // A row already there is a tombstone (cancelled first) or an earlier decision
        // for this order (a re-sent event with a new id): either way, nothing to do.
        if !reservations::claim(conn, order.order_id, reservations::RESERVED).await? {
            tracing::info!(order_id = %order.order_id, "order already decided or cancelled");
            return Ok(());
        }
        let mut ids: Vec<Uuid> = order.lines.iter().map(|l| l.product_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let on_hand = products::lock_on_hand(conn, &ids).await?;
        let (topic, event_type, data) = match plan(&order.lines, &on_hand) {
            Ok(lines) => {
                for line in &lines {
                    products::move_stock(conn, line.product_id, -line.quantity).await?;
                }
                reservations::insert_lines(conn, order.order_id, &lines).await?;
                let data = StockReserved {
                    order_id: order.order_id,
                    lines,
                };
                (&self.reserved_topic, topics::STOCK_RESERVED, json(&data)?)
            }
            Err(shortfalls) => {
                reservations::set_status(conn, order.order_id, reservations::FAILED).await?;
                let data = StockFailed {
                    order_id: order.order_id,
                    shortfalls,
                };
                (&self.failed_topic, topics::STOCK_FAILED, json(&data)?)
            }
        };
        let reply =
            Envelope::new(event_type, 1, SOURCE, order.order_id.to_string(), data).caused_by(event);
        append(conn, topic, &reply).await?;
        Ok(())
    }
}

/// Serialises an event payload; failing here is a bug, so it is permanent.
pub(crate) fn json<T: serde::Serialize>(data: &T) -> Result<serde_json::Value, HandlerError> {
    serde_json::to_value(data).map_err(HandlerError::permanent)
}
