//! `creating.user.response` → settle the PENDING account.

use async_trait::async_trait;
use comanda_outbox::{deadline, inbox::decode, Envelope, Handler, HandlerError};
use diesel_async::AsyncPgConnection;

use super::payloads::CreatingUserResponse;
use super::profile_request;
use crate::db::accounts;
use crate::domain::account::decide;

/// Applies user-service's answer to a registration.
pub struct ApplyRegistrationResult;

#[async_trait]
impl Handler for ApplyRegistrationResult {
    async fn handle(
        &self,
        event: &Envelope,
        conn: &mut AsyncPgConnection,
    ) -> Result<(), HandlerError> {
        let answer: CreatingUserResponse = decode(event)?;
        let (status, reason) = decide(answer.result, answer.reason);
        let moved =
            accounts::settle_pending(conn, answer.account_id, status, reason.as_deref()).await?;
        // Answered: the request's deadline has nothing left to wait for.
        deadline::clear(conn, profile_request::DEADLINE, answer.account_id).await?;
        if moved {
            tracing::info!(account_id = %answer.account_id, status = status.as_str(), "registration settled");
        } else {
            // A second answer for one account (e.g. a re-sent request), or an unknown
            // account: the first decision stands.
            tracing::info!(account_id = %answer.account_id, "no PENDING account to settle");
        }
        Ok(())
    }
}
