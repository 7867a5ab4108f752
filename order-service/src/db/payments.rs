//! The payment and refund columns of `orders`: what payment-service reported about
//! an order's money. Callers hold the order's row lock and have already decided, with
//! [`crate::domain::payment`], that the status written moves forward.

use chrono::{DateTime, Utc};
use comanda_kit::prepared::Prepared;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::orders;
use crate::domain::payment::{PaymentStatus, RefundStatus};

/// The provider's checkout of a payment: where and until when the customer pays.
#[derive(Debug, Clone, Copy)]
pub struct Checkout<'a> {
    /// The checkout page.
    pub url: &'a str,
    /// When it stops taking payment.
    pub expires_at: DateTime<Utc>,
}

/// Records that order `order_id`'s payment is `payment_id` at `status`, with its
/// `checkout` when the event carries one (an event without one keeps the stored one).
pub async fn record(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    payment_id: Uuid,
    status: PaymentStatus,
    checkout: Option<Checkout<'_>>,
) -> QueryResult<()> {
    let target = orders::table.find(order_id);
    let payment = (
        orders::payment_id.eq(payment_id),
        orders::payment_status.eq(status.as_str()),
        orders::updated_at.eq(Utc::now()),
    );
    match checkout {
        Some(checkout) => {
            Prepared(diesel::update(target).set((
                payment,
                orders::checkout_url.eq(checkout.url),
                orders::payment_expires_at.eq(checkout.expires_at),
            )))
            .execute(conn)
            .await?
        }
        None => {
            Prepared(diesel::update(target).set(payment))
                .execute(conn)
                .await?
        }
    };
    Ok(())
}

/// Records that the refund of order `order_id`'s captured payment is at `status`.
pub async fn record_refund(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    status: RefundStatus,
) -> QueryResult<()> {
    Prepared(diesel::update(orders::table.find(order_id)).set((
        orders::refund_status.eq(status.as_str()),
        orders::updated_at.eq(Utc::now()),
    )))
    .execute(conn)
    .await?;
    Ok(())
}
