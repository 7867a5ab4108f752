//! The OpenAPI document the gateway merges into `/api/docs`.

use comanda_kit::text::{trimmed_text_pattern, MULTILINE_PATTERN};
use product_service::domain::product::{MAX_PRICE_CENTS, MAX_STOCK};
use product_service::routes::precondition::ENTITY_TAGS_PATTERN;
use serde_json::Value;

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
    // `*` or entity tags, as two alternatives a fuzzer draws valid values from; a bare
    // `0` is neither (schemathesis sent it as valid while both were one pattern).
    let if_match = item["put"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "If-Match")
        .expect("If-Match is documented");
    assert_eq!(if_match["in"], "header");
    assert_eq!(if_match["required"], false);
    let alternatives = if_match["schema"]["anyOf"]
        .as_array()
        .unwrap_or_else(|| panic!("If-Match is `*` or entity tags: {if_match}"));
    assert_eq!(
        alternatives[0]["enum"],
        serde_json::json!(["*"]),
        "{if_match}"
    );
    assert_eq!(
        alternatives[1]["pattern"], ENTITY_TAGS_PATTERN,
        "{if_match}"
    );
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

/// Every `$ref` under `value`.
fn references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("$ref", Value::String(reference)) => found.push(reference.clone()),
                    _ => references(inner, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| references(item, found)),
        _ => {}
    }
}

/// The document stands on its own: the gateway merges it with others, but a schema it
/// names must be in it (the listing's `name` and `category` named a `Text` it lacked).
#[tokio::test]
async fn every_schema_the_document_refers_to_is_in_it() {
    let app = spawn_app().await;
    let doc = app.http.assert_documents(&[]).await;
    let mut found = Vec::new();
    references(&doc, &mut found);
    assert!(!found.is_empty());
    for reference in found {
        let name = reference
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("a reference outside the schemas: {reference}"));
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{reference} does not resolve"
        );
    }
}

#[tokio::test]
async fn a_documented_path_answers_an_undeclared_method_with_a_405_naming_its_methods() {
    let app = spawn_app().await;
    app.http.assert_undeclared_methods_are_405().await;
}
