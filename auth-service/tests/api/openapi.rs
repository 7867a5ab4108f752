//! The OpenAPI document the gateway merges into `/api/docs`.

use crate::helpers::Stack;

#[tokio::test]
async fn openapi_json_documents_every_auth_route_and_its_problems() {
    let stack = Stack::auth_only().await;
    let doc = stack
        .auth
        .assert_documents(&[
            ("post", "/api/v1/auth/register"),
            ("get", "/api/v1/auth/accounts/{id}"),
            ("post", "/api/v1/auth/login"),
            ("post", "/api/v1/auth/refresh"),
            ("post", "/api/v1/auth/logout"),
            ("get", "/.well-known/jwks.json"),
        ])
        .await;
    let login = &doc["paths"]["/api/v1/auth/login"]["post"];
    assert_eq!(
        login["responses"]["401"]["content"]["application/problem+json"]["schema"]["$ref"],
        "#/components/schemas/Problem"
    );
    assert_eq!(
        login["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/LoginBody"
    );
    let account = &doc["paths"]["/api/v1/auth/accounts/{id}"]["get"];
    assert!(account["security"].to_string().contains("bearer_auth"));
    // An id that is no UUID is refused before anything else.
    assert!(account["responses"]["400"].is_object(), "{account}");
    for schema in ["Problem", "Session", "RegistrationAccepted", "Account"] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "{schema} missing"
        );
    }
}

#[tokio::test]
async fn a_documented_path_answers_an_undeclared_method_with_a_405_naming_its_methods() {
    let stack = Stack::auth_only().await;
    stack.auth.assert_undeclared_methods_are_405().await;
}
