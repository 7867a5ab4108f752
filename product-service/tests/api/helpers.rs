//! Spawning product-service for a test.

use comanda_kit::testing::{self, TestApp};

/// Starts product-service on port 0 with a fresh database.
pub async fn spawn_app() -> TestApp {
    testing::spawn_service("product", product_service::startup::build).await
}
