//! `inventory.stock.reserved` → a PENDING order becomes CONFIRMED, priced, and awaits
//! payment: `payment.requested` (its total, currency and payment deadline) goes out in
//! the same transaction, with the durable deadline of kind
//! [`payment_deadline::DEADLINE`] at the checkout's close (`pay_by`, `payment.timeout`
//! from now) plus `payment.settlement_grace`.
//!
//! A reservation whose prices make a total that does not fit in cents (a price stored
//! before prices were bounded) cannot be confirmed: the order is REJECTED
//! `total_out_of_range` and `order.cancelled` gives the held stock back. Dead-lettering
//! the reply instead would leave the order PENDING and the stock held until the saga
//! deadline gave up on an answer that had in fact arrived.

use async_trait::async_trait;
use comanda_outbox::{deadline, inbox::decode, topics, Envelope, Handler, HandlerError};
use diesel_async::AsyncPgConnection;

use super::payloads::{CancelReason, PaymentRequested, ReservedLine, StockReserved};
use super::{payment_deadline, publish, SOURCE};
use crate::db::orders::{self, Line, Order};
use crate::domain::reasons::RejectionReason;
use crate::domain::status::{transition, Next, OrderEvent};
use crate::domain::total::total;
use crate::routes::orders::OrderTopics;
use crate::settings::PaymentSettings;

/// Confirms orders whose stock is held, and asks for their payment.
pub struct ConfirmOrder {
    /// Where the payment request (and the compensation of an order it cannot price) go.
    pub topics: OrderTopics,
    /// The payment deadline and currency.
    pub payment: PaymentSettings,
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
        let currency = &self.payment.currency;
        orders::confirm(conn, order.id, status, total, currency).await?;
        let pay_by = self.payment.pay_by();
        let data = serde_json::to_value(PaymentRequested {
            order_id: order.id,
            user_id: order.user_id,
            amount_cents: total,
            currency: currency.clone(),
            pay_by,
        })
        .map_err(HandlerError::permanent)?;
        let request = Envelope::new(
            topics::PAYMENT_REQUESTED,
            1,
            SOURCE,
            order.id.to_string(),
            data,
        )
        .caused_by(event);
        publish(conn, &self.topics.payment_requested, order.id, &request).await?;
        let expire_at = self.payment.expire_at(pay_by);
        deadline::schedule(conn, payment_deadline::DEADLINE, order.id, expire_at).await?;
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
        let cancel = super::cancelled(order.id, CancelReason::TotalOutOfRange)
            .map_err(HandlerError::permanent)?
            .caused_by(event);
        publish(conn, &self.topics.cancelled, order.id, &cancel).await?;
        tracing::warn!(
            order_id = %order.id,
            "the reserved prices make a total out of range; order rejected, stock released"
        );
        Ok(())
    }
}
