//! Booting and readiness.

use crate::helpers::spawn_app;

#[tokio::test]
async fn product_service_boots_migrated_and_ready() {
    let app = spawn_app().await;
    // The version of migrations/2026-11-25-000000_catalog.
    app.http.assert_booted_with_outbox("20261125000000").await;
    assert!(app.http.tables().await.iter().any(|t| t == "reservations"));
}
