//! `/api/docs`: Swagger UI over one document merged from every service's
//! `/openapi.json`, public, with its assets served from the binary.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_gateway, test_settings};
use crate::upstream::TestUpstream;

/// A small OpenAPI document with one operation and one schema, as a service serves.
fn service_doc(title: &str, path: &str, schema: &str) -> Value {
    json!({
        "openapi": "3.1.0",
        "info": { "title": title, "version": "0.1.0" },
        "paths": {
            path: { "get": { "responses": { "200": { "description": "ok" } } } }
        },
        "components": { "schemas": { schema: { "type": "object" } } }
    })
}

fn content_type(res: &reqwest::Response) -> String {
    res.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn the_docs_merge_every_answering_service_and_name_the_ones_that_are_down() {
    let auth = TestUpstream::with_openapi(
        "auth",
        service_doc("auth-service", "/api/v1/auth/login", "Session"),
    );
    let orders = TestUpstream::with_openapi(
        "orders",
        service_doc("order-service", "/api/v1/orders/{id}/cancel", "Order"),
    );
    let mut settings = test_settings();
    settings.upstreams.auth.urls = vec![auth.url.clone()];
    settings.upstreams.order.urls = vec![orders.url.clone()];
    // user-service and product-service stay where nothing listens.
    let gateway = spawn_gateway(&settings);

    // No token: the docs are public.
    let res = gateway.get("/api/docs/openapi.json").await;
    assert_eq!(res.status().as_u16(), 200);
    assert!(content_type(&res).starts_with("application/json"));
    let doc: Value = res.json().await.expect("json");
    assert!(doc["openapi"]
        .as_str()
        .unwrap_or_default()
        .starts_with("3."));
    assert_eq!(doc["info"]["title"], "Comanda API");
    for path in ["/api/v1/auth/login", "/api/v1/orders/{id}/cancel"] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} missing");
    }
    for schema in ["Session", "Order"] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
    let description = doc["info"]["description"].as_str().unwrap_or_default();
    assert!(description.contains("the user service"), "{description}");
    assert!(description.contains("the product service"), "{description}");
    assert!(!description.contains("the auth service"), "{description}");
    assert!(!description.contains("the order service"), "{description}");
    // Fetching the documents is not a forwarded request.
    assert_eq!((auth.requests(), orders.requests()), (0, 0));
}

#[tokio::test]
async fn the_docs_page_is_public_and_references_the_vendored_assets() {
    let gateway = spawn_app();
    for path in ["/api/docs", "/api/docs/"] {
        let res = gateway.get(path).await;
        assert_eq!(res.status().as_u16(), 200, "{path}");
        assert!(content_type(&res).starts_with("text/html"), "{path}");
        let html = res.text().await.expect("html");
        for reference in [
            "/api/docs/swagger-ui-bundle.js",
            "/api/docs/swagger-ui.css",
            "/api/docs/openapi.json",
        ] {
            assert!(html.contains(reference), "{path} lacks {reference}");
        }
    }
}

#[tokio::test]
async fn the_vendored_assets_are_served_with_script_and_style_types() {
    let gateway = spawn_app();
    for (path, media_type, marker) in [
        (
            "/api/docs/swagger-ui-bundle.js",
            "text/javascript",
            "SwaggerUIBundle",
        ),
        ("/api/docs/swagger-ui.css", "text/css", ".swagger-ui"),
    ] {
        let res = gateway.get(path).await;
        assert_eq!(res.status().as_u16(), 200, "{path}");
        assert!(content_type(&res).starts_with(media_type), "{path}");
        let body = res.text().await.expect("body");
        assert!(body.contains(marker), "{path} lacks {marker}");
    }
}

#[tokio::test]
async fn the_docs_are_up_even_when_every_service_is_down() {
    let gateway = spawn_app();
    let res = gateway.get("/api/docs/openapi.json").await;
    assert_eq!(res.status().as_u16(), 200);
    let doc: Value = res.json().await.expect("json");
    assert_eq!(doc["paths"], json!({}));
    let description = doc["info"]["description"].as_str().unwrap_or_default();
    for service in ["auth", "user", "order", "product"] {
        assert!(
            description.contains(&format!("the {service} service")),
            "{description}"
        );
    }
}
