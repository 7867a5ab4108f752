//! What order-service publishes and how it reacts to stock replies.
//!
//! - [`payloads`]: the `data` of the events it publishes and consumes.
//! - [`stock_reserved`]: `inventory.stock.reserved` → CONFIRMED, priced (or REJECTED
//!   `total_out_of_range`, compensated, when the prices make a total that does not fit).
//! - [`stock_failed`]: `inventory.stock.failed` → REJECTED, with the shortfalls.
//! - [`stock_released`]: `inventory.stock.released` → the timeline only.
//! - [`stock_request`]: the stock request (`order.created.pending`) and its saga
//!   deadline: sent again while unanswered, then REJECTED `timeout`.
//!
//! Every event of an order, published or consumed, is also written to its timeline
//! (`order_events`) in the same transaction.

pub mod payloads;
pub mod stock_failed;
pub mod stock_released;
pub mod stock_request;
pub mod stock_reserved;

use comanda_outbox::{append, deadline, Envelope, HandlerError};
use diesel::OptionalExtension;
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::db::orders::{self, Order};
use crate::db::timeline;

/// `source` of every event order-service writes.
pub const SOURCE: &str = "order-service";
/// Consumer group (and dedupe scope) of order-service's inbox.
pub const GROUP: &str = "order-service";

/// Appends `event` about order `order_id` to the outbox (topic `topic`) and to the
/// order's timeline. Call it after the order's change, under its row lock.
pub async fn publish(
    conn: &mut AsyncPgConnection,
    topic: &str,
    order_id: Uuid,
    event: &Envelope,
) -> diesel::QueryResult<()> {
    append(conn, topic, event).await?;
    timeline::record(conn, order_id, event).await
}

/// Locks the order a stock reply is about, records the reply on its timeline and
/// clears the stock request's deadline: an answer, whatever it says, ends the wait.
///
/// A reply for an order this service never stored cannot be applied: it is
/// dead-lettered for a human to look at.
pub(crate) async fn receive(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    event: &Envelope,
) -> Result<Order, HandlerError> {
    let order = orders::lock(conn, order_id)
        .await
        .optional()?
        .ok_or_else(|| HandlerError::permanent(format!("unknown order {order_id}")))?;
    timeline::record(conn, order_id, event).await?;
    deadline::clear(conn, stock_request::DEADLINE, order_id).await?;
    Ok(order)
}
