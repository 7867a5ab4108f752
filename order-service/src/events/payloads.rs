//! The `data` of the events order-service publishes and consumes (version 1).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::new_order::NewLine;

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

/// `order.cancelled`: compensation; product-service gives back what it holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderCancelled {
    /// The order.
    pub order_id: Uuid,
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
