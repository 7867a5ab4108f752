//! The OpenAPI document the gateway merges into `/api/docs`.

use serde_json::json;

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
    let create = &doc["paths"]["/api/v1/orders"]["post"];
    assert!(create.to_string().contains("Idempotency-Key"));
    // What a key may be (1-255 visible ASCII), exactly as IdempotencyKey::parse says.
    let key = create["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "Idempotency-Key")
        .expect("Idempotency-Key is documented");
    assert_eq!(key["required"], false);
    assert_eq!(
        key["schema"],
        json!({"type": "string", "pattern": "^[!-~]{1,255}$"}),
        "{key}"
    );
    // A key reused with another body.
    let reused = &create["responses"]["422"];
    assert!(
        reused["description"]
            .to_string()
            .contains("idempotency_key_reused"),
        "{create}"
    );
    // The bounds the service enforces (each product once cannot be said in JSON Schema).
    let body = &doc["components"]["schemas"]["NewOrderBody"]["properties"]["lines"];
    assert_eq!(
        (&body["minItems"], &body["maxItems"]),
        (&json!(1), &json!(50))
    );
    let quantity = &doc["components"]["schemas"]["OrderLineBody"]["properties"]["quantity"];
    assert_eq!(
        (&quantity["minimum"], &quantity["maximum"]),
        (&json!(1), &json!(1000)),
        "{quantity}"
    );
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
    // A REJECTED order's shortfalls are a list of lines, as product-service sends them.
    let shortfalls = &order["shortfalls"];
    assert!(
        shortfalls.to_string().contains(r#""array""#),
        "shortfalls is an array: {shortfalls}"
    );
    assert!(
        shortfalls
            .to_string()
            .contains("#/components/schemas/Shortfall"),
        "{shortfalls}"
    );
    let shortfall = &doc["components"]["schemas"]["Shortfall"];
    for field in ["product_id", "requested", "available"] {
        assert!(
            shortfall["properties"][field].is_object(),
            "Shortfall documents {field}: {shortfall}"
        );
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
