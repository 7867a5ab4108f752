//! What payment-service consumes and publishes.
//!
//! - [`payloads`]: the `data` of the events it consumes and publishes.
//! - [`payment_requested`]: `payment.requested` → a CREATING payment (one per order)
//!   and the deadline that creates its checkout session.
//! - [`order_cancelled`]: `order.cancelled` → void the session, refund the charge, or
//!   leave a tombstone.
//! - [`webhook`]: a verified provider webhook → SUCCEEDED, FAILED or a refund.
//!
//! Every event it publishes is about an order (key = order id) and carries the
//! order's flow (the correlation id of its `payment.requested`).

pub mod order_cancelled;
pub mod payloads;
pub mod payment_requested;
pub mod webhook;

use comanda_kit::correlation::CorrelationId;
use comanda_outbox::{append, Envelope};
use diesel_async::AsyncPgConnection;
use serde::Serialize;

use crate::db::payments::Payment;

/// `source` of every event payment-service writes.
pub const SOURCE: &str = "payment-service";
/// Consumer group (and dedupe scope) of payment-service's inbox.
pub const GROUP: &str = "payment-service";

/// Full names of the topics payment-service publishes (they carry the deployment's prefix).
#[derive(Debug, Clone)]
pub struct PaymentTopics {
    /// `payment.created`.
    pub created: String,
    /// `payment.succeeded`.
    pub succeeded: String,
    /// `payment.failed`.
    pub failed: String,
    /// `payment.refunded`.
    pub refunded: String,
}

impl PaymentTopics {
    /// The topics under `kafka`'s prefix.
    pub fn of(kafka: &comanda_kit::settings::KafkaSettings) -> Self {
        use comanda_outbox::topics;
        Self {
            created: kafka.topic(topics::PAYMENT_CREATED),
            succeeded: kafka.topic(topics::PAYMENT_SUCCEEDED),
            failed: kafka.topic(topics::PAYMENT_FAILED),
            refunded: kafka.topic(topics::PAYMENT_REFUNDED),
        }
    }
}

/// Appends event `event_type` about `payment` with `data` to the outbox (topic
/// `topic`, key = the order id) in the order's flow. Call it after the payment's
/// change, under its row lock.
pub async fn publish(
    conn: &mut AsyncPgConnection,
    topic: &str,
    event_type: &str,
    payment: &Payment,
    data: &impl Serialize,
) -> diesel::QueryResult<()> {
    let data = serde_json::to_value(data)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    let flow = CorrelationId::parse(&payment.correlation_id).unwrap_or_default();
    let event =
        Envelope::new(event_type, 1, SOURCE, payment.order_id.to_string(), data).correlated(flow);
    append(conn, topic, &event).await
}
