//! What a consumer implements: one handler per consumed topic.

use async_trait::async_trait;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::AsyncPgConnection;
use serde::de::DeserializeOwned;

use crate::envelope::Envelope;

/// Applies one event inside the inbox transaction.
///
/// `conn` is inside the transaction that also records the message as processed:
/// do the effect and append reply events ([`crate::append`]) on it, and they commit
/// together or not at all. Return an error to roll everything back.
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    /// Applies `event`.
    async fn handle(
        &self,
        event: &Envelope,
        conn: &mut AsyncPgConnection,
    ) -> Result<(), HandlerError>;
}

/// Why a handler failed, which decides what the runtime does next.
///
/// The policy: only a message that can never succeed is dead-lettered. Anything that
/// may succeed later — a database that is read-only during a failover, full, shutting
/// down, out of connections, timing out a statement — is retried without limit, since
/// the message is fine and dead-lettering it would stop its saga for good. The
/// partition waits meanwhile, and the inbox reports the stall on `/ready` and in metrics.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The message can never succeed (a payload of the wrong shape, an order this
    /// service never stored): it goes to the dead-letter topic at once.
    #[error("permanent failure: {0:#}")]
    Permanent(anyhow::Error),
    /// It may succeed later: retried with capped exponential backoff, without limit.
    #[error("transient failure: {0:#}")]
    Transient(anyhow::Error),
    /// Lost a race with another transaction (serialization failure `40001`, deadlock
    /// `40P01`): retried at once, since the other transaction has already moved on.
    #[error("conflict: {0:#}")]
    Conflict(anyhow::Error),
}

impl HandlerError {
    /// A permanent failure with a message.
    pub fn permanent(message: impl std::fmt::Display) -> Self {
        Self::Permanent(anyhow::anyhow!("{message}"))
    }
}

impl From<DieselError> for HandlerError {
    /// Every database error is worth retrying: diesel cannot tell a broken statement
    /// from a sick database, and a statement that never works is a bug that has to be
    /// fixed and deployed anyway — the message waits for the fix instead of being lost.
    fn from(error: DieselError) -> Self {
        let conflict = match &error {
            DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
            // diesel-async has no kind for 40P01; Postgres words it this way.
            DieselError::DatabaseError(DatabaseErrorKind::Unknown, info) => {
                info.message().starts_with("deadlock detected")
            }
            _ => false,
        };
        if conflict {
            Self::Conflict(error.into())
        } else {
            Self::Transient(error.into())
        }
    }
}

/// Decodes an event's `data`; a shape mismatch is a permanent failure.
pub fn decode<T: DeserializeOwned>(event: &Envelope) -> Result<T, HandlerError> {
    serde_json::from_value(event.data.clone()).map_err(|e| {
        HandlerError::Permanent(anyhow::anyhow!(
            "data of {} v{} does not decode: {e}",
            event.event_type,
            event.version
        ))
    })
}
