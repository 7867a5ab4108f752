//! The profile request of a registration (`creating.user`) and its saga deadline.
//!
//! A registration stores the account PENDING, its `creating.user` and a deadline of
//! kind [`DEADLINE`] at `saga.request_timeout`, in one transaction; the deadline keeps
//! the request itself (auth-service keeps no profile data) and goes when the answer
//! is applied. When it fires first, the request or its answer was lost: the request
//! is sent again (a new event id, the same account and fields; user-service answers
//! `created` again for a profile it already made for this account), up to
//! `saga.max_attempts` sends in all. Then the account is REJECTED with reason
//! `timeout`, which frees its email, and `creating.user.cancelled` follows the
//! requests on their partition, so user-service removes a profile a late request made.

use async_trait::async_trait;
use comanda_kit::correlation::CorrelationId;
use comanda_outbox::deadline::{self, DeadlineHandler, Due, SagaSettings};
use comanda_outbox::{append, topics, Envelope};
use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize};

use super::payloads::{CreatingUser, CreatingUserCancelled};
use super::SOURCE;
use crate::db::accounts;
use crate::domain::account::Status;

/// Deadline kind of a registration's profile request.
pub const DEADLINE: &str = "registration.profile_request";
/// Type of the event that withdraws a registration's profile request (on the
/// `creating.user` topic, keyed by the account, so it follows every request).
pub const CANCELLED: &str = "creating.user.cancelled";
/// The rejection reason of a registration nobody answered.
pub const TIMEOUT: &str = "timeout";

/// What the deadline keeps: the request to send again and the flow it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRequest {
    /// The registration's flow.
    pub correlation_id: CorrelationId,
    /// The request as first sent.
    pub request: CreatingUser,
}

/// `creating.user` for `pending`: a new event in the registration's flow.
pub fn request(pending: &PendingRequest) -> serde_json::Result<Envelope> {
    Ok(Envelope::new(
        topics::CREATING_USER,
        1,
        SOURCE,
        pending.request.account_id.to_string(),
        serde_json::to_value(&pending.request)?,
    )
    .correlated(pending.correlation_id))
}

/// Sends an unanswered profile request again, then gives the registration up.
pub struct ProfileRequestDeadline {
    /// Full name of the `creating.user` topic.
    pub topic: String,
    /// Timeout and attempts.
    pub saga: SagaSettings,
}

#[async_trait]
impl DeadlineHandler for ProfileRequestDeadline {
    async fn fire(
        &self,
        due: &Due,
        conn: &mut AsyncPgConnection,
    ) -> anyhow::Result<deadline::Next> {
        let account = accounts::lock(conn, due.aggregate_id).await?;
        if account.is_none_or(|a| a.status != Status::Pending.as_str()) {
            return Ok(deadline::Next::Done);
        }
        let data = due.data.clone().unwrap_or_default();
        let pending: PendingRequest = serde_json::from_value(data)?;
        if self.saga.may_resend(due.attempts) {
            append(conn, &self.topic, &request(&pending)?).await?;
            tracing::warn!(
                account_id = %due.aggregate_id,
                attempt = due.attempts + 2,
                "profile request unanswered; sent again"
            );
            return Ok(deadline::Next::Retry {
                at: self.saga.next_deadline(),
            });
        }
        accounts::settle_pending(conn, due.aggregate_id, Status::Rejected, Some(TIMEOUT)).await?;
        let cancel = Envelope::new(
            CANCELLED,
            1,
            SOURCE,
            due.aggregate_id.to_string(),
            serde_json::to_value(CreatingUserCancelled {
                account_id: due.aggregate_id,
            })?,
        )
        .correlated(pending.correlation_id);
        append(conn, &self.topic, &cancel).await?;
        tracing::warn!(
            account_id = %due.aggregate_id,
            attempts = due.attempts + 1,
            "profile request never answered; registration rejected (timeout)"
        );
        Ok(deadline::Next::Expired)
    }
}
