//! The OpenAPI document the gateway merges into `/api/docs`.

use crate::helpers::Saga;

#[tokio::test]
async fn openapi_json_documents_every_order_route() {
    let saga = Saga::start().await;
    let doc = saga
        .orders
        .assert_documents(&[
            ("post", "/api/v1/orders"),
            ("get", "/api/v1/orders"),
            ("get", "/api/v1/orders/{id}"),
            ("post", "/api/v1/orders/{id}/cancel"),
            ("get", "/api/v1/orders/{id}/timeline"),
        ])
        .await;
    let cancel = &doc["paths"]["/api/v1/orders/{id}/cancel"]["post"];
    assert!(cancel["responses"]["409"].is_object());
    assert!(cancel["security"].to_string().contains("bearer_auth"));
    let create = doc["paths"]["/api/v1/orders"]["post"].to_string();
    assert!(create.contains("Idempotency-Key"));
    let status = &doc["components"]["schemas"]["OrderStatus"]["enum"];
    assert_eq!(
        status,
        &serde_json::json!([
            "PENDING",
            "CONFIRMED",
            "PAID",
            "REJECTED",
            "CANCELLED",
            "EXPIRED"
        ])
    );
    let reason = &doc["components"]["schemas"]["RejectionReason"]["enum"];
    assert_eq!(
        reason,
        &serde_json::json!(["insufficient_stock", "timeout", "total_out_of_range"])
    );
    let cancellation = &doc["components"]["schemas"]["CancellationReason"]["enum"];
    assert_eq!(
        cancellation,
        &serde_json::json!(["customer", "payment_failed", "amount_mismatch", "expired"])
    );
    let order = &doc["components"]["schemas"]["Order"]["properties"];
    for field in ["payment", "refund", "cancellation_reason", "currency"] {
        assert!(order[field].is_object(), "Order documents {field}: {order}");
    }
    // Named apart from payment-service's schemas, which the gateway merges with these.
    let payment = &doc["components"]["schemas"]["OrderPayment"]["properties"];
    for field in ["id", "status", "checkout_url", "expires_at"] {
        assert!(
            payment[field].is_object(),
            "Payment documents {field}: {payment}"
        );
    }
}

#[tokio::test]
async fn a_documented_path_answers_an_undeclared_method_with_a_405_naming_its_methods() {
    let saga = Saga::start().await;
    saga.orders.assert_undeclared_methods_are_405().await;
}
