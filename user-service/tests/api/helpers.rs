//! Spawning user-service for a test.

use comanda_kit::testing::{self, TestApp};

/// Starts user-service on port 0 with a fresh database.
pub async fn spawn_app() -> TestApp {
    testing::spawn_service("user", user_service::startup::build).await
}
