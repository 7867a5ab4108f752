//! The `webhook_events` table: each provider event applied once.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::webhook_events;
use crate::provider::webhook::WebhookEvent;

/// What applying a webhook event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The payment changed.
    Applied,
    /// Nothing to change: late, repeated, or a type not acted on.
    Ignored,
    /// No payment has the event's reference or session.
    UnknownPayment,
}

impl Outcome {
    /// The outcome as stored and counted.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Ignored => "ignored",
            Self::UnknownPayment => "unknown_payment",
        }
    }
}

/// Claims `event`'s id in the caller's transaction: true the first time, false when
/// the event was stored before (a redelivery, to be answered with no effect). A
/// concurrent delivery of the same id waits here until the first one commits.
pub async fn claim(conn: &mut AsyncPgConnection, event: &WebhookEvent) -> QueryResult<bool> {
    let payload = serde_json::to_value(event)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    let inserted = diesel::insert_into(webhook_events::table)
        .values((
            webhook_events::provider_event_id.eq(&event.id),
            webhook_events::event_type.eq(&event.event_type),
            webhook_events::outcome.eq(Outcome::Ignored.as_str()),
            webhook_events::payload.eq(payload),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted > 0)
}

/// Records what applying claimed event `event_id` did, and to which payment.
pub async fn settle(
    conn: &mut AsyncPgConnection,
    event_id: &str,
    payment_id: Option<Uuid>,
    outcome: Outcome,
) -> QueryResult<()> {
    diesel::update(webhook_events::table.find(event_id))
        .set((
            webhook_events::payment_id.eq(payment_id),
            webhook_events::outcome.eq(outcome.as_str()),
        ))
        .execute(conn)
        .await
        .map(drop)
}
