//! The OpenAPI document the gateway merges into `/api/docs`.

use comanda_kit::text::{trimmed_text_pattern, MULTILINE_PATTERN};
use product_service::domain::product::{MAX_PRICE_CENTS, MAX_STOCK};

use crate::helpers::spawn_app;

#[tokio::test]
async fn openapi_json_documents_every_catalogue_route() {
    let app = spawn_app().await;
    let doc = app
        .http
        .assert_documents(&[
            ("get", "/api/v1/products"),
            ("post", "/api/v1/products"),
            ("get", "/api/v1/products/{id}"),
            ("put", "/api/v1/products/{id}"),
            ("delete", "/api/v1/products/{id}"),
            ("post", "/api/v1/products/{id}/stock-adjustments"),
            ("get", "/api/v1/products/{id}/stock-adjustments"),
        ])
        .await;
    // Reads are public; writes need the bearer token.
    let item = &doc["paths"]["/api/v1/products/{id}"];
    assert!(item["get"]["security"].is_null());
    assert!(item["put"]["security"].to_string().contains("bearer_auth"));
    assert!(item["put"]["responses"]["409"].is_object());
    // Stock cannot be overwritten blindly: the PUT's preconditions are documented.
    assert!(item["put"]["responses"]["412"].is_object());
    assert!(item["put"]["responses"]["428"].is_object());
    assert!(item["put"]["parameters"].to_string().contains("If-Match"));
    assert!(item["get"]["responses"]["200"]["headers"]["ETag"].is_object());
    let adjust = &doc["paths"]["/api/v1/products/{id}/stock-adjustments"]["post"];
    assert!(adjust["security"].to_string().contains("bearer_auth"));
    assert!(adjust["responses"]["409"].is_object());
    let list = doc["paths"]["/api/v1/products"]["get"]["parameters"].to_string();
    assert!(list.contains("\"category\""));
    // The documented bounds are the enforced ones.
    let body = &doc["components"]["schemas"]["ProductBody"]["properties"];
    assert_eq!(body["price_cents"]["maximum"], MAX_PRICE_CENTS, "{body}");
    assert_eq!(body["stock"]["maximum"], MAX_STOCK, "{body}");
    // Text: no control characters, and the lengths the service enforces after trimming.
    assert_eq!(body["name"]["pattern"], trimmed_text_pattern(200), "{body}");
    assert_eq!(
        body["category"]["pattern"],
        trimmed_text_pattern(100),
        "{body}"
    );
    assert_eq!(body["description"]["pattern"], MULTILINE_PATTERN, "{body}");
    assert_eq!(body["description"]["maxLength"], 2000, "{body}");
    let adjustment = &doc["components"]["schemas"]["StockAdjustmentBody"]["properties"];
    assert_eq!(adjustment["reason"]["pattern"], trimmed_text_pattern(200));
    // A delta of 0 is refused, so the document leaves it out.
    let ranges = adjustment["delta"]["oneOf"].to_string();
    assert!(
        ranges.contains(r#""maximum":-1"#) && ranges.contains(r#""minimum":1"#),
        "{ranges}"
    );
}

#[tokio::test]
async fn a_documented_path_answers_an_undeclared_method_with_a_405_naming_its_methods() {
    let app = spawn_app().await;
    app.http.assert_undeclared_methods_are_405().await;
}
