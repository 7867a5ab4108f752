//! The `data` of the events product-service publishes and consumes (version 1).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::reservation::{RequestedLine, ReservedLine, Shortfall};

/// `order.created.pending`: an order waits for stock.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderCreatedPending {
    /// The order.
    pub order_id: Uuid,
    /// What it asks for.
    pub lines: Vec<RequestedLine>,
}

/// `order.cancelled`: an order was cancelled; anything held for it goes back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderCancelled {
    /// The order.
    pub order_id: Uuid,
}

/// `inventory.stock.reserved`: every line is held, priced at reservation time.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StockReserved {
    /// The order.
    pub order_id: Uuid,
    /// The lines held.
    pub lines: Vec<ReservedLine>,
}

/// `inventory.stock.failed`: nothing is held; these lines fell short.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StockFailed {
    /// The order.
    pub order_id: Uuid,
    /// The lines that fell short.
    pub shortfalls: Vec<Shortfall>,
}

/// `inventory.stock.released`: a reservation was given back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StockReleased {
    /// The order.
    pub order_id: Uuid,
    /// The lines given back.
    pub lines: Vec<RequestedLine>,
}

/// `product.deleted`: a product left the catalogue.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProductDeleted {
    /// The product.
    pub id: Uuid,
}
