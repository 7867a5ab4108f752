//! `/api/v1/orders`: create (idempotent), read, list, cancel, timeline.
//!
//! A caller sees their own orders; an admin sees every order. Someone else's order is
//! a 404, never a 403, so ids of other people's orders cannot be probed.

pub mod backlog;
pub mod cancel;
pub mod create;
pub mod read;

use comanda_kit::auth::AuthUser;
use comanda_kit::problem::Problem;
use diesel::OptionalExtension;
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::db::orders::{self, Order};

/// Full names of the topics order-service publishes (they carry the deployment's prefix).
#[derive(Debug, Clone)]
pub struct OrderTopics {
    /// `order.created.pending`.
    pub created_pending: String,
    /// `order.cancelled`.
    pub cancelled: String,
    /// `payment.requested`.
    pub payment_requested: String,
}

/// Order `id` if `user` may see it, else a 404. With `lock`, the row stays locked
/// until the transaction ends.
async fn visible(
    conn: &mut AsyncPgConnection,
    user: &AuthUser,
    id: Uuid,
    lock: bool,
) -> Result<Order, Problem> {
    let order = if lock {
        orders::lock(conn, id).await
    } else {
        orders::find(conn, id).await
    };
    match order.optional()? {
        Some(order) if user.may_access(order.user_id) => Ok(order),
        _ => Err(Problem::not_found("the order does not exist")),
    }
}
