//! The OpenAPI document the gateway merges into `/api/docs`.

use crate::helpers::Payments;

#[tokio::test]
async fn openapi_json_documents_every_payment_route() {
    let payments = Payments::start().await;
    let doc = payments
        .app
        .assert_documents(&[
            ("get", "/api/v1/payments/{id}"),
            ("get", "/api/v1/payments"),
            ("post", "/api/v1/payments/webhooks/sandbox"),
        ])
        .await;
    let webhook = &doc["paths"]["/api/v1/payments/webhooks/sandbox"]["post"];
    assert!(webhook["responses"]["400"].is_object());
    assert!(webhook.to_string().contains("Sandbox-Signature"));
    // The provider holds no token of ours: its signature is its authentication.
    assert!(webhook["security"].is_null(), "{webhook}");
    let get = &doc["paths"]["/api/v1/payments/{id}"]["get"];
    assert!(get["security"].to_string().contains("bearer_auth"));
    let status = &doc["components"]["schemas"]["PaymentStatus"]["enum"];
    assert_eq!(
        status,
        &serde_json::json!([
            "CREATING",
            "PENDING",
            "SUCCEEDED",
            "FAILED",
            "VOIDED",
            "CANCELLED",
            "REFUNDING",
            "REFUNDED"
        ])
    );
}

#[tokio::test]
async fn a_documented_path_answers_an_undeclared_method_with_a_405_naming_its_methods() {
    let payments = Payments::start().await;
    payments.app.assert_undeclared_methods_are_405().await;
}
