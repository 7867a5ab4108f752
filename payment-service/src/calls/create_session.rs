//! `payment.create_session`: the provider's checkout session of a CREATING payment.
//!
//! Created → PENDING with the session, and `payment.created` {checkout URL, expiry}.
//! Refused by the provider (it will never open a checkout for this request, e.g. a
//! payment deadline already past) → FAILED `provider_refused` and `payment.failed`,
//! so the order is cancelled rather than left waiting. Unavailable → retried.

use std::sync::Arc;

use async_trait::async_trait;
use comanda_outbox::deadline::{self, DeadlineHandler, Due};
use comanda_outbox::topics::{PAYMENT_CREATED, PAYMENT_FAILED};
use diesel_async::AsyncPgConnection;

use super::new_session;
use crate::db::payments::{self, Payment};
use crate::domain::status::{transition, Next, PaymentEvent, PaymentStatus};
use crate::events::payloads::{PaymentCreated, PaymentFailed};
use crate::events::{publish, PaymentTopics};
use crate::provider::{PaymentProvider, ProviderError, Session};

/// Why a payment failed when the provider refused to open its checkout.
pub const PROVIDER_REFUSED: &str = "provider_refused";

/// Creates checkout sessions.
pub struct CreateSession {
    /// The provider.
    pub provider: Arc<dyn PaymentProvider>,
    /// Where `payment.created` and `payment.failed` go.
    pub topics: PaymentTopics,
}

#[async_trait]
impl DeadlineHandler for CreateSession {
    async fn fire(
        &self,
        due: &Due,
        conn: &mut AsyncPgConnection,
    ) -> anyhow::Result<deadline::Next> {
        let Some(payment) = payments::lock(conn, due.aggregate_id).await? else {
            return Ok(deadline::Next::Done);
        };
        if payment.status != PaymentStatus::Creating {
            // Cancelled (voided) or already answered meanwhile.
            return Ok(deadline::Next::Done);
        }
        let request = new_session(&payment)?;
        let result = self
            .provider
            .create_session(&payment.id.to_string(), &request)
            .await;
        crate::metrics::provider_call("create_session", &result);
        match result {
            Ok(session) => self.opened(conn, &payment, &session).await,
            Err(refused @ ProviderError::Refused { .. }) => {
                tracing::warn!(payment_id = %payment.id, error = %refused, "the provider refused the checkout");
                self.refused(conn, &payment).await
            }
            Err(unavailable) => {
                Err(anyhow::Error::new(unavailable).context("creating the checkout session"))
            }
        }
    }
}

impl CreateSession {
    /// PENDING with `session`, and `payment.created`.
    async fn opened(
        &self,
        conn: &mut AsyncPgConnection,
        payment: &Payment,
        session: &Session,
    ) -> anyhow::Result<deadline::Next> {
        let Next::Move(status) = transition(payment.status, PaymentEvent::SessionCreated)? else {
            return Ok(deadline::Next::Done);
        };
        payments::set_session(conn, payment.id, session, status).await?;
        let created = PaymentCreated {
            payment_id: payment.id,
            order_id: payment.order_id,
            checkout_url: session.checkout_url.clone(),
            expires_at: session.expires_at,
        };
        publish(
            conn,
            &self.topics.created,
            PAYMENT_CREATED,
            payment,
            &created,
        )
        .await?;
        crate::metrics::payment(status);
        tracing::info!(payment_id = %payment.id, session_id = %session.id, "checkout session open");
        Ok(deadline::Next::Done)
    }

    /// FAILED `provider_refused`, and `payment.failed`: the order is cancelled rather
    /// than left waiting for a checkout that will never open.
    async fn refused(
        &self,
        conn: &mut AsyncPgConnection,
        payment: &Payment,
    ) -> anyhow::Result<deadline::Next> {
        let Next::Move(status) = transition(payment.status, PaymentEvent::SessionRefused)? else {
            return Ok(deadline::Next::Done);
        };
        payments::failed(conn, payment.id, PROVIDER_REFUSED).await?;
        let failed = PaymentFailed {
            payment_id: payment.id,
            order_id: payment.order_id,
            reason: PROVIDER_REFUSED.to_owned(),
        };
        publish(conn, &self.topics.failed, PAYMENT_FAILED, payment, &failed).await?;
        crate::metrics::payment(status);
        Ok(deadline::Next::Expired)
    }
}
