//! The `data` of the events payment-service consumes and publishes (version 1), as
//! docs/events.md lists them. Its own copies: services share the contract, not types.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `payment.requested`: an order is CONFIRMED (stock held) and waits for payment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PaymentRequested {
    /// The order.
    pub order_id: Uuid,
    /// The customer (the payment's owner).
    pub user_id: Uuid,
    /// The order's total, in cents.
    pub amount_cents: i64,
    /// Its currency (EUR when absent).
    #[serde(default)]
    pub currency: Option<String>,
    /// The order's payment deadline.
    pub pay_by: DateTime<Utc>,
}

/// `order.cancelled`: the order will not be paid (cancelled, expired, payment failed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderCancelled {
    /// The order.
    pub order_id: Uuid,
    /// Why (`customer`, `expired`, `payment_failed`, …); absent in older events.
    #[serde(default)]
    pub reason: Option<String>,
}

/// `payment.created`: the provider's checkout session exists.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PaymentCreated {
    /// The payment.
    pub payment_id: Uuid,
    /// The order.
    pub order_id: Uuid,
    /// Where the customer pays.
    pub checkout_url: String,
    /// When the checkout stops taking payments.
    pub expires_at: DateTime<Utc>,
}

/// `payment.succeeded`: the charge was captured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PaymentSucceeded {
    /// The payment.
    pub payment_id: Uuid,
    /// The order.
    pub order_id: Uuid,
    /// The cents captured (order-service checks them against the order's total).
    pub amount_cents: i64,
    /// Their currency.
    pub currency: String,
}

/// `payment.failed`: the charge failed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PaymentFailed {
    /// The payment.
    pub payment_id: Uuid,
    /// The order.
    pub order_id: Uuid,
    /// Why: the provider's reason (`card_declined`, `insufficient_funds`, …), or
    /// `provider_refused` when the provider would not open a checkout at all.
    pub reason: String,
}

/// `payment.refunded`: a captured charge went back to the customer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PaymentRefunded {
    /// The payment.
    pub payment_id: Uuid,
    /// The order.
    pub order_id: Uuid,
    /// The provider's refund.
    pub refund_id: String,
    /// The cents refunded.
    pub amount_cents: i64,
    /// Their currency.
    pub currency: String,
}
