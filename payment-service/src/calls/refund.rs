//! `payment.refund`: the captured charge of a REFUNDING payment goes back.
//!
//! REFUNDING → REFUNDED with the provider's refund id, and `payment.refunded`. The
//! key `refund-<payment id>` makes a retried call (its answer lost, the transaction
//! rolled back) return the first refund, so a payment is refunded once. Any failure
//! is retried: a refused refund (`not_captured`) is a contradiction that a human has
//! to look at, and the worker's stall on `/ready` says so.

use std::sync::Arc;

use async_trait::async_trait;
use comanda_outbox::deadline::{self, DeadlineHandler, Due};
use comanda_outbox::topics::PAYMENT_REFUNDED;
use diesel_async::AsyncPgConnection;

use crate::db::payments;
use crate::domain::money::DEFAULT_CURRENCY;
use crate::domain::status::{transition, Next, PaymentEvent, PaymentStatus};
use crate::events::payloads::PaymentRefunded;
use crate::events::{publish, PaymentTopics};
use crate::provider::PaymentProvider;

/// Refunds captured charges.
pub struct RefundPayment {
    /// The provider.
    pub provider: Arc<dyn PaymentProvider>,
    /// Where `payment.refunded` goes.
    pub topics: PaymentTopics,
}

/// The idempotency key of payment `payment_id`'s refund.
pub fn refund_key(payment_id: uuid::Uuid) -> String {
    format!("refund-{payment_id}")
}

#[async_trait]
impl DeadlineHandler for RefundPayment {
    async fn fire(
        &self,
        due: &Due,
        conn: &mut AsyncPgConnection,
    ) -> anyhow::Result<deadline::Next> {
        let Some(payment) = payments::lock(conn, due.aggregate_id).await? else {
            return Ok(deadline::Next::Done);
        };
        if payment.status != PaymentStatus::Refunding {
            return Ok(deadline::Next::Done);
        }
        let Some(session_id) = payment.session_id.clone() else {
            anyhow::bail!("payment {} is REFUNDING without a session", payment.id);
        };
        let Some(amount_cents) = payment.captured_cents.or(payment.amount_cents) else {
            anyhow::bail!("payment {} is REFUNDING without an amount", payment.id);
        };
        let key = refund_key(payment.id);
        let result = self.provider.refund(&key, &session_id, amount_cents).await;
        crate::metrics::provider_call("refund", &result);
        let refund = result.map_err(|e| anyhow::Error::new(e).context("refunding the charge"))?;
        let Next::Move(status) = transition(payment.status, PaymentEvent::RefundSucceeded)? else {
            return Ok(deadline::Next::Done);
        };
        payments::refunded(conn, payment.id, &refund.id).await?;
        let refunded = PaymentRefunded {
            payment_id: payment.id,
            order_id: payment.order_id,
            refund_id: refund.id.clone(),
            amount_cents: refund.amount_cents,
            currency: payment
                .currency
                .clone()
                .unwrap_or_else(|| DEFAULT_CURRENCY.to_string()),
        };
        publish(
            conn,
            &self.topics.refunded,
            PAYMENT_REFUNDED,
            &payment,
            &refunded,
        )
        .await?;
        crate::metrics::payment(status);
        tracing::info!(payment_id = %payment.id, refund_id = %refund.id, amount_cents, "payment refunded");
        Ok(deadline::Next::Done)
    }
}
