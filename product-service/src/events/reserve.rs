//! `order.created.pending` → reserve every line or none, and say which.
//!
//! A request for an order that was decided before (order-service sends it again when
//! the answer did not reach it in time, under a new event id) reserves nothing more:
//! it is answered with the earlier decision, the held lines or the shortfalls. A
//! request for an order already released or cancelled gets no answer: nobody waits.

use async_trait::async_trait;
use comanda_outbox::{append, inbox::decode, topics, Envelope, Handler, HandlerError};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::payloads::{OrderCreatedPending, StockFailed, StockReserved};
use super::SOURCE;
use crate::db::products;
use crate::db::reservations::{self, Decision};
use crate::domain::reservation::{plan, ReservedLine, Shortfall};

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
        // for this order (a re-sent request with a new id): never reserve again.
        if !reservations::claim(conn, order.order_id, reservations::RESERVED).await? {
            return self.answer_again(conn, order.order_id, event).await;
        }
        let mut ids: Vec<Uuid> = order.lines.iter().map(|l| l.product_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let on_hand = products::lock_on_hand(conn, &ids).await?;
        match plan(&order.lines, &on_hand) {
            Ok(lines) => {
                for line in &lines {
                    products::move_stock(conn, line.product_id, -line.quantity).await?;
                }
                reservations::insert_lines(conn, order.order_id, &lines).await?;
                self.reserved(conn, order.order_id, lines, event).await
            }
            Err(shortfalls) => {
                reservations::fail(conn, order.order_id, &shortfalls).await?;
                self.failed(conn, order.order_id, shortfalls, event).await
            }
        }
    }
}

impl ReserveStock {
    /// Answers a repeated request with the decision taken the first time.
    async fn answer_again(
        &self,
        conn: &mut AsyncPgConnection,
        order_id: Uuid,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        match reservations::decision(conn, order_id).await? {
            Some(Decision::Reserved(lines)) => {
                tracing::info!(%order_id, "repeated stock request: reserved again answered");
                self.reserved(conn, order_id, lines, event).await
            }
            Some(Decision::Failed(shortfalls)) => {
                tracing::info!(%order_id, "repeated stock request: failed again answered");
                self.failed(conn, order_id, shortfalls, event).await
            }
            Some(Decision::Closed) | None => {
                tracing::info!(%order_id, "stock request for a released or cancelled order");
                Ok(())
            }
        }
    }

    async fn reserved(
        &self,
        conn: &mut AsyncPgConnection,
        order_id: Uuid,
        lines: Vec<ReservedLine>,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        let data = json(&StockReserved { order_id, lines })?;
        let reply = Envelope::new(
            topics::STOCK_RESERVED,
            1,
            SOURCE,
            order_id.to_string(),
            data,
        )
        .caused_by(event);
        append(conn, &self.reserved_topic, &reply).await?;
        Ok(())
    }

    async fn failed(
        &self,
        conn: &mut AsyncPgConnection,
        order_id: Uuid,
        shortfalls: Vec<Shortfall>,
        event: &Envelope,
    ) -> Result<(), HandlerError> {
        let data = json(&StockFailed {
            order_id,
            shortfalls,
        })?;
        let reply = Envelope::new(topics::STOCK_FAILED, 1, SOURCE, order_id.to_string(), data)
            .caused_by(event);
        append(conn, &self.failed_topic, &reply).await?;
        Ok(())
    }
}

/// Serialises an event payload; failing here is a bug, so it is permanent.
pub(crate) fn json<T: serde::Serialize>(data: &T) -> Result<serde_json::Value, HandlerError> {
    serde_json::to_value(data).map_err(HandlerError::permanent)
}
