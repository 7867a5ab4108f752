//! `payment.requested` → a CREATING payment, and the deadline that creates its
//! checkout session with the provider, in the inbox transaction.
//!
//! One payment per order (`order_id` is unique): a second request for the order
//! (order-service sent it again, or Kafka redelivered it under a new id) finds the
//! row and changes nothing, so there is never a second session, let alone a second
//! charge. A CANCELLED tombstone (the order's cancel overtook its request) stops the
//! request the same way.

use async_trait::async_trait;
use chrono::Utc;
use comanda_outbox::{deadline, inbox::decode, Envelope, Handler, HandlerError};
use diesel_async::AsyncPgConnection;

use super::payloads::PaymentRequested;
use crate::calls;
use crate::db::payments::{self, Requested};
use crate::domain::money::Amount;
use crate::domain::status::PaymentStatus;

/// Stores requested payments.
pub struct RecordRequest;

#[async_trait]
impl Handler for RecordRequest {
    async fn handle(
        &self,
        event: &Envelope,
        conn: &mut AsyncPgConnection,
    ) -> Result<(), HandlerError> {
        let request: PaymentRequested = decode(event)?;
        // An amount that cannot be charged can never be: a human looks at it.
        let amount = Amount::parse(request.amount_cents, request.currency.as_deref())
            .map_err(HandlerError::permanent)?;
        let requested = Requested {
            order_id: request.order_id,
            user_id: request.user_id,
            amount,
            pay_by: request.pay_by,
            correlation_id: event.correlation_id.as_str().to_owned(),
        };
        let Some(payment_id) = payments::insert_requested(conn, &requested).await? else {
            tracing::info!(
                order_id = %request.order_id,
                "the order has a payment (or was cancelled) already; request ignored"
            );
            return Ok(());
        };
        // The provider is called by the deadline worker, outside this consumer:
        // a slow or absent provider never holds up the topic.
        deadline::schedule(conn, calls::CREATE_SESSION, payment_id, Utc::now()).await?;
        crate::metrics::payment(PaymentStatus::Creating);
        tracing::info!(order_id = %request.order_id, %payment_id, "payment requested");
        Ok(())
    }
}
