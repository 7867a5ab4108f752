//! Booting and readiness.

use crate::helpers::Saga;

#[tokio::test]
async fn order_service_boots_migrated_and_ready() {
    let saga = Saga::start().await;
    // The version of migrations/2026-11-25-000000_orders.
    saga.orders
        .assert_booted_with_outbox("20261125000000")
        .await;
    let tables = saga.orders.tables().await;
    for table in ["orders", "order_lines", "order_events", "idempotency_keys"] {
        assert!(tables.iter().any(|t| t == table), "{table} missing");
    }
}
