//! `payment.void_session`: the session of a VOIDED payment takes no payment any more.
//!
//! The payment became VOIDED when its order was cancelled; this makes the provider
//! agree. A payment cancelled while still CREATING has no session recorded, but one
//! may exist (a create whose answer was lost): the create is replayed under the same
//! key and body to learn it (at worst this opens a session only to void it). The
//! provider's answers:
//! - voided (or already voided, expired, failed): done (the session's status is the
//!   provider's to show; voiding is idempotent there, so a retry is harmless);
//! - `session_paid`: the charge was captured first; its `checkout.session.completed`
//!   webhook refunds it (see `events::webhook`), so nothing more to do here;
//! - `no_such_session`, or a replayed create refused: there is no session to void;
//! - unavailable: retried.

use std::sync::Arc;

use async_trait::async_trait;
use comanda_outbox::deadline::{self, DeadlineHandler, Due};
use diesel_async::AsyncPgConnection;

use super::new_session;
use crate::db::payments::{self, Payment};
use crate::domain::status::PaymentStatus;
use crate::provider::{PaymentProvider, ProviderError};

/// Voids checkout sessions.
pub struct VoidSession {
    /// The provider.
    pub provider: Arc<dyn PaymentProvider>,
}

impl VoidSession {
    /// The session of `payment`, learnt by replaying its create when none is
    /// recorded; `None` when the provider refuses that replay (no session can be open).
    async fn session_of(
        &self,
        conn: &mut AsyncPgConnection,
        payment: &Payment,
    ) -> anyhow::Result<Option<String>> {
        if let Some(session_id) = &payment.session_id {
            return Ok(Some(session_id.clone()));
        }
        let request = new_session(payment)?;
        let result = self
            .provider
            .create_session(&payment.id.to_string(), &request)
            .await;
        crate::metrics::provider_call("create_session", &result);
        match result {
            Ok(session) => {
                payments::set_session(conn, payment.id, &session, payment.status).await?;
                Ok(Some(session.id))
            }
            Err(ProviderError::Refused { .. }) => Ok(None),
            Err(unavailable) => Err(anyhow::Error::new(unavailable)
                .context("looking up the session of a cancelled payment")),
        }
    }
}

#[async_trait]
impl DeadlineHandler for VoidSession {
    async fn fire(
        &self,
        due: &Due,
        conn: &mut AsyncPgConnection,
    ) -> anyhow::Result<deadline::Next> {
        let Some(payment) = payments::lock(conn, due.aggregate_id).await? else {
            return Ok(deadline::Next::Done);
        };
        if payment.status != PaymentStatus::Voided {
            // Captured after all, and being refunded.
            return Ok(deadline::Next::Done);
        }
        let Some(session_id) = self.session_of(conn, &payment).await? else {
            tracing::info!(payment_id = %payment.id, "no session to void");
            return Ok(deadline::Next::Done);
        };
        let result = self.provider.void_session(&session_id).await;
        crate::metrics::provider_call("void_session", &result);
        match result {
            Ok(session) => {
                tracing::info!(payment_id = %payment.id, %session_id, status = %session.status, "session voided");
                Ok(deadline::Next::Done)
            }
            Err(refused) if refused.refusal_code() == Some("session_paid") => {
                tracing::warn!(payment_id = %payment.id, %session_id, "session paid before its void; its capture will be refunded");
                Ok(deadline::Next::Done)
            }
            Err(refused) if refused.refusal_code() == Some("no_such_session") => {
                tracing::warn!(payment_id = %payment.id, %session_id, "the provider knows no such session");
                Ok(deadline::Next::Done)
            }
            Err(error) => Err(anyhow::Error::new(error).context("voiding the checkout session")),
        }
    }
}
