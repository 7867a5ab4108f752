//! The body of a webhook: `{"id","type","created","data":{…}}`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{FailureReason, Session};

/// One event, as POSTed to the receiver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// `evt_<uuid>`; the same in every delivery of this event (retries, duplicates).
    pub id: String,
    /// What happened.
    #[serde(rename = "type")]
    pub kind: EventType,
    /// Unix seconds the event happened at.
    pub created: i64,
    /// The session it is about.
    pub data: EventData,
}

/// The event types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventType {
    /// The session's charge was captured.
    #[serde(rename = "checkout.session.completed")]
    Completed,
    /// The card was refused.
    #[serde(rename = "checkout.session.payment_failed")]
    PaymentFailed,
    /// The charge was refunded.
    #[serde(rename = "charge.refunded")]
    Refunded,
}

/// What the event is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventData {
    /// The session's id.
    pub session_id: String,
    /// The merchant's reference (payment-service's payment id).
    pub reference: String,
    /// The session's amount (the refund's, for `charge.refunded`), in cents.
    pub amount_cents: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// Why the card was refused (`checkout.session.payment_failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<FailureReason>,
    /// The refund (`charge.refunded`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<String>,
}

impl Event {
    /// A new event of `kind` about `session`, with a fresh id.
    pub fn new(kind: EventType, session: &Session, now: DateTime<Utc>) -> Self {
        let request = &session.request;
        Self {
            id: format!("evt_{}", uuid::Uuid::new_v4().simple()),
            kind,
            created: now.timestamp(),
            data: EventData {
                session_id: session.id.clone(),
                reference: request.reference.clone(),
                amount_cents: request.amount_cents,
                currency: request.currency.clone(),
                failure_reason: None,
                refund_id: None,
            },
        }
    }
}
