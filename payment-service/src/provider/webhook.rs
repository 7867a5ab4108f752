//! The webhook events the provider sends, as they are decoded once their signature
//! has been checked.
//!
//! `{"id":"evt_…","type":T,"created":<unix>,"data":{"session_id","reference",
//! "amount_cents","currency","failure_reason"?,"refund_id"?}}`.

use serde::{Deserialize, Serialize};

/// `type` of a captured charge.
pub const COMPLETED: &str = "checkout.session.completed";
/// `type` of a failed charge.
pub const PAYMENT_FAILED: &str = "checkout.session.payment_failed";
/// `type` of a refund the provider made.
pub const REFUNDED: &str = "charge.refunded";

/// Longest event id stored (the provider's are ~36 characters).
const MAX_ID_LEN: usize = 255;

/// One webhook delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEvent {
    /// The provider's event id: unique per event, the same on every redelivery.
    pub id: String,
    /// What happened.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When it happened (unix seconds).
    pub created: i64,
    /// About which session.
    pub data: WebhookData,
}

/// What a webhook event is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookData {
    /// The provider's session id.
    pub session_id: String,
    /// Our reference given at creation: the payment id.
    pub reference: String,
    /// The cents charged (or refunded).
    pub amount_cents: i64,
    /// Their currency.
    pub currency: String,
    /// Why the charge failed (`card_declined`, `insufficient_funds`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    /// The refund's id (`charge.refunded`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<String>,
}

/// What an event means to a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The charge was captured.
    Completed,
    /// The charge failed.
    PaymentFailed,
    /// A refund happened (recorded only: refunds are marked from the refund call).
    Refunded,
    /// A type this service does not act on.
    Other,
}

/// Why a delivery with a genuine signature could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum InvalidPayload {
    /// Not JSON of the event's shape.
    #[error("the event does not decode: {0}")]
    Json(#[from] serde_json::Error),
    /// An event id that is empty or too long to be one.
    #[error("the event id must be 1 to {MAX_ID_LEN} characters")]
    Id,
    /// A text field holding U+0000, which Postgres stores in neither TEXT nor JSONB: the
    /// event could never be recorded, and answering 503 would have the provider send it
    /// again forever.
    #[error("the event's text fields must not contain U+0000")]
    Nul,
}

impl WebhookEvent {
    /// Decodes a delivery's raw body (call it only after the signature was checked).
    pub fn parse(body: &[u8]) -> Result<Self, InvalidPayload> {
        let event: Self = serde_json::from_slice(body)?;
        if event.id.is_empty() || event.id.len() > MAX_ID_LEN {
            return Err(InvalidPayload::Id);
        }
        if event.texts().any(|text| text.contains('\0')) {
            return Err(InvalidPayload::Nul);
        }
        Ok(event)
    }

    /// Every text field of the event (what is stored of it).
    fn texts(&self) -> impl Iterator<Item = &str> {
        let data = &self.data;
        [
            Some(self.id.as_str()),
            Some(self.event_type.as_str()),
            Some(data.session_id.as_str()),
            Some(data.reference.as_str()),
            Some(data.currency.as_str()),
            data.failure_reason.as_deref(),
            data.refund_id.as_deref(),
        ]
        .into_iter()
        .flatten()
    }

    /// What the event means.
    pub fn kind(&self) -> Kind {
        match self.event_type.as_str() {
            COMPLETED => Kind::Completed,
            PAYMENT_FAILED => Kind::PaymentFailed,
            REFUNDED => Kind::Refunded,
            _ => Kind::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_with_a_nul_in_any_text_field_is_invalid_not_a_storage_failure() {
        let body = br#"{"id":"evt_1","type":"checkout.session.completed","created":1700000000,
            "data":{"session_id":"cs_1","reference":"0190","amount_cents":1250,"currency":"EUR"}}"#;
        let body = std::str::from_utf8(body).expect("UTF-8");
        for field in ["evt_1", "checkout.session.completed", "cs_1", "0190", "EUR"] {
            let poisoned =
                body.replacen(&format!("\"{field}\""), &format!("\"{field}\\u0000\""), 1);
            assert_ne!(poisoned, body);
            assert!(
                matches!(
                    WebhookEvent::parse(poisoned.as_bytes()),
                    Err(InvalidPayload::Nul)
                ),
                "{poisoned}"
            );
        }
        let reason = body.replacen(r#""EUR""#, r#""EUR","failure_reason":"a\u0000""#, 1);
        assert!(matches!(
            WebhookEvent::parse(reason.as_bytes()),
            Err(InvalidPayload::Nul)
        ));
    }

    #[test]
    fn a_completed_event_decodes_with_its_session_and_reference() {
        let body = br#"{"id":"evt_1","type":"checkout.session.completed","created":1700000000,
            "data":{"session_id":"cs_1","reference":"0190","amount_cents":1250,"currency":"EUR"}}"#;
        let event = WebhookEvent::parse(body).expect("decodes");
        assert_eq!(event.kind(), Kind::Completed);
        assert_eq!(event.data.session_id, "cs_1");
        assert_eq!(event.data.failure_reason, None);
    }

    #[test]
    fn a_failed_event_carries_its_reason_and_unknown_types_are_other() {
        let body = br#"{"id":"evt_2","type":"checkout.session.payment_failed","created":1,
            "data":{"session_id":"cs_1","reference":"r","amount_cents":1,"currency":"EUR",
            "failure_reason":"card_declined"}}"#;
        let event = WebhookEvent::parse(body).expect("decodes");
        assert_eq!(event.kind(), Kind::PaymentFailed);
        assert_eq!(event.data.failure_reason.as_deref(), Some("card_declined"));
        let mut other = event;
        other.event_type = "payout.paid".to_owned();
        assert_eq!(other.kind(), Kind::Other);
    }

    #[test]
    fn bodies_that_are_not_events_are_invalid() {
        for body in [
            &b"not json"[..],
            br#"{"id":"evt_1"}"#,
            br#"{"id":"","type":"t","created":1,"data":{"session_id":"s","reference":"r","amount_cents":1,"currency":"EUR"}}"#,
        ] {
            assert!(WebhookEvent::parse(body).is_err());
        }
    }
}
