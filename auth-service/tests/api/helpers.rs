//! Spawning auth-service for a test.

use comanda_kit::testing::{self, TestApp};

/// Starts auth-service on port 0 with a fresh database.
pub async fn spawn_app() -> TestApp {
    testing::spawn_service("auth", auth_service::startup::build).await
}
