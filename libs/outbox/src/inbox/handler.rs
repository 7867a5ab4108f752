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
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The message can never succeed (e.g. a payload of the wrong shape): it goes
    /// to the dead-letter topic at once.
    #[error("permanent failure: {0:#}")]
    Permanent(anyhow::Error),
    /// It may succeed later: retried with backoff, dead-lettered after the last attempt.
    #[error("transient failure: {0:#}")]
    Transient(anyhow::Error),
    /// The database is unreachable: retried until it is back; never dead-lettered,
    /// since the message itself is fine.
    #[error("database unavailable: {0:#}")]
    Unavailable(anyhow::Error),
}

impl HandlerError {
    /// A permanent failure with a message.
    pub fn permanent(message: impl std::fmt::Display) -> Self {
        Self::Permanent(anyhow::anyhow!("{message}"))
    }
}

impl From<DieselError> for HandlerError {
    fn from(error: DieselError) -> Self {
        match &error {
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
            | DieselError::BrokenTransactionManager => Self::Unavailable(error.into()),
            _ => Self::Transient(error.into()),
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
