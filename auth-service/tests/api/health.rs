//! Booting and readiness.

use crate::helpers::spawn_app;

#[tokio::test]
async fn auth_service_boots_migrated_and_ready() {
    // The version of migrations/2026-11-24-000000_init.
    spawn_app()
        .await
        .assert_booted_with_outbox("20261124000000")
        .await;
}
