//! The OpenAPI document the gateway merges into `/api/docs`.

use crate::helpers::spawn_app;

#[tokio::test]
async fn openapi_json_documents_every_user_route() {
    let app = spawn_app().await;
    let doc = app
        .app
        .assert_documents(&[
            ("get", "/api/v1/users"),
            ("get", "/api/v1/users/me"),
            ("put", "/api/v1/users/me"),
            ("get", "/api/v1/users/{id}"),
        ])
        .await;
    let list = &doc["paths"]["/api/v1/users"]["get"];
    let parameters = list["parameters"].to_string();
    assert!(parameters.contains("\"page\"") && parameters.contains("\"size\""));
    assert!(list["responses"]["403"].is_object());
    assert!(doc["components"]["schemas"]["Profile"]["properties"]["email"].is_object());
}

#[tokio::test]
async fn a_documented_path_answers_an_undeclared_method_with_a_405_naming_its_methods() {
    let app = spawn_app().await;
    app.app.assert_undeclared_methods_are_405().await;
}
