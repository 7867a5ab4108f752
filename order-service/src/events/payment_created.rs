//! `payment.created` → the order shows its payment: id, `pending`, the checkout URL and
//! when the checkout expires.
//!
//! It changes no status, so it is harmless for an order that is no longer CONFIRMED
//! (the checkout of a cancelled order is voided by payment-service), and it never takes
//! a payment back: arriving after the payment's outcome, it adds the checkout and
//! leaves the status as the outcome set it.

use async_trait::async_trait;
use comanda_outbox::{inbox::decode, Envelope, Handler, HandlerError};
use diesel_async::AsyncPgConnection;

use super::payloads::PaymentCreated;
use super::{locate, record_payment};
use crate::db::payments::Checkout;
use crate::domain::payment::PaymentStatus;

/// Records checkouts.
pub struct RecordCheckout;

#[async_trait]
impl Handler for RecordCheckout {
    async fn handle(
        &self,
        event: &Envelope,
        conn: &mut AsyncPgConnection,
    ) -> Result<(), HandlerError> {
        let created: PaymentCreated = decode(event)?;
        let mut order = locate(conn, created.order_id, event).await?;
        let checkout = Checkout {
            url: &created.checkout_url,
            expires_at: created.expires_at,
        };
        record_payment(
            conn,
            &mut order,
            created.payment_id,
            PaymentStatus::Pending,
            Some(checkout),
        )
        .await
    }
}
