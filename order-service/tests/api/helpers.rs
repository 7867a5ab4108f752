//! Spawning order-service for a test.

use comanda_kit::testing::{self, TestApp};

/// Starts order-service on port 0 with a fresh database.
pub async fn spawn_app() -> TestApp {
    testing::spawn_service("order", order_service::startup::build).await
}
