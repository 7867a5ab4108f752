//! The `data` of the events order-service publishes and consumes (version 1).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::new_order::NewLine;
use crate::domain::reasons::CancellationReason;

/// `order.created.pending`: an order waits for stock.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderCreatedPending {
    /// The order.
    pub order_id: Uuid,
    /// The customer.
    pub user_id: Uuid,
    /// What it asks for, by product id.
    pub lines: Vec<NewLine>,
}

/// `order.cancelled`: compensation; product-service gives back what it holds,
/// payment-service voids the checkout or refunds a captured payment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderCancelled {
    /// The order.
    pub order_id: Uuid,
    /// Why (always sent; absent only in events from before payments).
    pub reason: CancelReason,
}

/// Why an order was given up, as `order.cancelled` says: a cancel or an end of the
/// order (the [`CancellationReason`]s), or one of the rejections that held stock
/// (`timeout`, `total_out_of_range`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    /// Its owner or an admin cancelled it.
    Customer,
    /// No stock reply came after every attempt (REJECTED `timeout`).
    Timeout,
    /// The reserved prices make a total that does not fit (REJECTED).
    TotalOutOfRange,
    /// Its payment failed.
    PaymentFailed,
    /// The captured amount was not its total.
    AmountMismatch,
    /// It was not paid by its payment deadline (EXPIRED).
    Expired,
}

impl From<CancellationReason> for CancelReason {
    fn from(reason: CancellationReason) -> Self {
        match reason {
            CancellationReason::Customer => Self::Customer,
            CancellationReason::PaymentFailed => Self::PaymentFailed,
            CancellationReason::AmountMismatch => Self::AmountMismatch,
            CancellationReason::Expired => Self::Expired,
        }
    }
}

/// `payment.requested`: a CONFIRMED order awaits payment of its total.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PaymentRequested {
    /// The order.
    pub order_id: Uuid,
    /// The customer.
    pub user_id: Uuid,
    /// What to charge: the order's total.
    pub amount_cents: i64,
    /// In this currency (ISO 4217).
    pub currency: String,
    /// The order's payment deadline: unpaid by then, it EXPIRES (RFC 3339, UTC).
    pub pay_by: DateTime<Utc>,
}

/// `payment.created`: the provider's checkout for the order exists.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PaymentCreated {
    /// payment-service's payment.
    pub payment_id: Uuid,
    /// The order.
    pub order_id: Uuid,
    /// Where the customer pays.
    pub checkout_url: String,
    /// When the checkout stops taking payment.
    pub expires_at: DateTime<Utc>,
}

/// `payment.succeeded`: the charge was captured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PaymentSucceeded {
    /// payment-service's payment.
    pub payment_id: Uuid,
    /// The order.
    pub order_id: Uuid,
    /// What was captured.
    pub amount_cents: i64,
    /// In this currency.
    pub currency: String,
}

/// `payment.failed`: the charge failed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PaymentFailed {
    /// payment-service's payment.
    pub payment_id: Uuid,
    /// The order.
    pub order_id: Uuid,
    /// Why, e.g. `card_declined`, `insufficient_funds`.
    pub reason: String,
}

/// `payment.refunded`: a captured payment of a cancelled or expired order was refunded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PaymentRefunded {
    /// payment-service's payment.
    pub payment_id: Uuid,
    /// The order.
    pub order_id: Uuid,
    /// The provider's refund.
    pub refund_id: String,
    /// What was refunded.
    pub amount_cents: i64,
    /// In this currency.
    pub currency: String,
}

/// `inventory.stock.reserved`: every line held, priced at reservation time.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StockReserved {
    /// The order.
    pub order_id: Uuid,
    /// The lines held.
    pub lines: Vec<ReservedLine>,
}

/// A held line with its price and name snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReservedLine {
    /// The product.
    pub product_id: Uuid,
    /// Units held.
    pub quantity: i32,
    /// Price per unit when reserved.
    pub unit_price_cents: i64,
    /// Name when reserved.
    pub name: String,
}

/// `inventory.stock.failed`: nothing held. The shortfalls are kept as sent
/// (`[{product_id, requested, available}]`) and shown on the order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StockFailed {
    /// The order.
    pub order_id: Uuid,
    /// The lines that fell short.
    pub shortfalls: serde_json::Value,
}

/// `inventory.stock.released` (only its order matters here).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StockReleased {
    /// The order.
    pub order_id: Uuid,
}
