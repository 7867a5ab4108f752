//! Booting and readiness.

use crate::helpers::spawn_app;

#[tokio::test]
async fn user_service_boots_migrated_and_ready() {
    // The version of migrations/2026-11-26-000000_profiles (after the init one).
    let app = spawn_app().await;
    app.app.assert_booted_with_outbox("20261124000000").await;
    app.app.assert_booted_with_outbox("20261126000000").await;
}
