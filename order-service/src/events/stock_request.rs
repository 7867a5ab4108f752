//! The stock request of an order (`order.created.pending`) and its saga deadline.
//!
//! An order is created PENDING with its request and a deadline of kind
//! [`DEADLINE`] at `saga.request_timeout`, all in one transaction. Any stock reply
//! clears the deadline (see [`super::receive`]), as does a cancel. When it fires
//! first, the request is lost or unanswered: it is sent again (a new event id, the
//! same order, lines and correlation id; product-service answers a repeat with its
//! earlier decision and never reserves twice), up to `saga.max_attempts` sends in
//! all. Then the order is REJECTED with reason `timeout` and `order.cancelled` is
//! published, so product-service releases whatever a late request reserved, or
//! leaves a tombstone that keeps a later one from reserving. Each send and the
//! cancel are on the order's timeline.

use async_trait::async_trait;
use comanda_kit::correlation::CorrelationId;
use comanda_outbox::deadline::{self, DeadlineHandler, Due, SagaSettings};
use comanda_outbox::{topics, Envelope};
use diesel::OptionalExtension;
use diesel_async::AsyncPgConnection;

use super::payloads::{CancelReason, OrderCreatedPending};
use super::{flow_of, publish, SOURCE};
use crate::db::orders::{self, Order};
use crate::domain::new_order::NewLine;
use crate::domain::reasons::RejectionReason;
use crate::domain::status::{transition, Next, OrderEvent, OrderStatus};
use crate::routes::orders::OrderTopics;

/// Deadline kind of an order's stock request.
pub const DEADLINE: &str = "order.stock_request";

/// `order.created.pending` asking for `order`'s stock, in flow `correlation_id`.
pub fn request(order: &Order, correlation_id: CorrelationId) -> serde_json::Result<Envelope> {
    let data = serde_json::to_value(OrderCreatedPending {
        order_id: order.id,
        user_id: order.user_id,
        lines: order
            .lines
            .iter()
            .map(|l| NewLine {
                product_id: l.product_id,
                quantity: l.quantity,
            })
            .collect(),
    })?;
    Ok(Envelope::new(
        topics::ORDER_CREATED_PENDING,
        1,
        SOURCE,
        order.id.to_string(),
        data,
    )
    .correlated(correlation_id))
}

/// Sends an unanswered stock request again, then gives the order up.
pub struct StockRequestDeadline {
    /// Where the request and the cancel go.
    pub topics: OrderTopics,
    /// Timeout and attempts.
    pub saga: SagaSettings,
}

#[async_trait]
impl DeadlineHandler for StockRequestDeadline {
    async fn fire(
        &self,
        due: &Due,
        conn: &mut AsyncPgConnection,
    ) -> anyhow::Result<deadline::Next> {
        let Some(order) = orders::lock(conn, due.aggregate_id).await.optional()? else {
            return Ok(deadline::Next::Done);
        };
        if order.status != OrderStatus::Pending {
            return Ok(deadline::Next::Done);
        }
        // The first request started the flow: its resends and the cancel stay in it.
        let correlation_id = flow_of(conn, order.id).await?;
        if self.saga.may_resend(due.attempts) {
            let event = request(&order, correlation_id)?;
            publish(conn, &self.topics.created_pending, order.id, &event).await?;
            tracing::warn!(
                order_id = %order.id,
                attempt = due.attempts + 2,
                "stock request unanswered; sent again"
            );
            return Ok(deadline::Next::Retry {
                at: self.saga.next_deadline(),
            });
        }
        let Next::Move(_rejected) = transition(order.status, OrderEvent::StockRequestTimedOut)?
        else {
            return Ok(deadline::Next::Done);
        };
        orders::reject(conn, order.id, RejectionReason::Timeout, None).await?;
        let cancel = super::cancelled(order.id, CancelReason::Timeout)?.correlated(correlation_id);
        publish(conn, &self.topics.cancelled, order.id, &cancel).await?;
        tracing::warn!(
            order_id = %order.id,
            attempts = due.attempts + 1,
            "stock request never answered; order rejected (timeout)"
        );
        Ok(deadline::Next::Expired)
    }
}
