//! Booting and readiness.

use crate::helpers::Payments;

#[tokio::test]
async fn payment_service_boots_migrated_and_ready() {
    let payments = Payments::start().await;
    // The version of migrations/2026-12-01-000000_payments.
    payments
        .app
        .assert_booted_with_outbox("20261201000000")
        .await;
    let tables = payments.app.tables().await;
    for table in ["payments", "webhook_events", "saga_deadlines"] {
        assert!(tables.iter().any(|t| t == table), "{table} missing");
    }
}
