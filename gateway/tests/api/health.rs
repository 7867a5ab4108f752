//! Liveness and readiness of the gateway.

use crate::helpers::spawn_app;

#[tokio::test]
async fn gateway_is_live_and_ready_without_dependencies() {
    let app = spawn_app();
    assert_eq!(app.get("/health").await.status().as_u16(), 200);
    let ready: serde_json::Value = app.get("/ready").await.json().await.expect("json");
    assert_eq!(ready["status"], "ready");
}

#[tokio::test]
async fn gateway_answers_unknown_routes_with_a_404_problem() {
    let res = spawn_app().get("/nowhere").await;
    assert_eq!(res.status().as_u16(), 404);
    let content_type = res.headers()["content-type"]
        .to_str()
        .ok()
        .map(str::to_owned);
    assert_eq!(content_type.as_deref(), Some("application/problem+json"));
}
