//! Liveness and readiness of the gateway.

use crate::helpers::{problem_code, spawn_app};

#[tokio::test]
async fn gateway_is_live_and_ready_without_dependencies() {
    let app = spawn_app();
    assert_eq!(app.get("/health").await.status().as_u16(), 200);
    let ready: serde_json::Value = app.get("/ready").await.json().await.expect("json");
    assert_eq!(ready["status"], "ready");
}

#[tokio::test]
async fn gateway_answers_unknown_routes_with_a_404_problem() {
    let app = spawn_app();
    for path in ["/nowhere", "/api/v1/unknown/1", "/api/v1/usersx"] {
        let res = app.get(path).await;
        assert_eq!(res.status().as_u16(), 404, "{path}");
        assert_eq!(problem_code(res).await, "not_found", "{path}");
    }
}
