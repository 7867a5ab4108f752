//! `order.cancelled` → give the order's reservation back exactly once.

use async_trait::async_trait;
use comanda_outbox::{append, inbox::decode, topics, Envelope, Handler, HandlerError};
use diesel_async::AsyncPgConnection;

use super::payloads::{OrderCancelled, StockReleased};
use super::reserve::json;
use super::SOURCE;
use crate::db::{products, reservations};
use crate::domain::reservation::RequestedLine;

/// Releases the stock of cancelled orders.
pub struct ReleaseStock {
    /// Full name of `inventory.stock.released`.
    pub released_topic: String,
}

#[async_trait]
impl Handler for ReleaseStock {
    async fn handle(
        &self,
        event: &Envelope,
        conn: &mut AsyncPgConnection,
    ) -> Result<(), HandlerError> {
        let cancelled: OrderCancelled = decode(event)?;
        let order_id = cancelled.order_id;
        if reservations::claim(conn, order_id, reservations::CANCELLED).await? {
            tracing::info!(%order_id, "cancel before reservation: tombstone left");
            return Ok(());
        }
        // Only a RESERVED row moves to RELEASED, so a second cancel (or a cancel of a
        // failed order) gives nothing back.
        let Some(held) = reservations::release(conn, order_id).await? else {
            return Ok(());
        };
        for (product_id, quantity) in &held {
            // A product deleted meanwhile updates no row: nothing to give back to.
            products::move_stock(conn, *product_id, *quantity).await?;
        }
        let data = StockReleased {
            order_id,
            lines: held
                .into_iter()
                .map(|(product_id, quantity)| RequestedLine {
                    product_id,
                    quantity,
                })
                .collect(),
        };
        let reply = Envelope::new(
            topics::STOCK_RELEASED,
            1,
            SOURCE,
            order_id.to_string(),
            json(&data)?,
        )
        .caused_by(event);
        append(conn, &self.released_topic, &reply).await?;
        Ok(())
    }
}
