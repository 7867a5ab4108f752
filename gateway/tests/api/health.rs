//! Liveness, readiness and metrics of the gateway.

use crate::helpers::{gateway_before_one, problem_code, spawn_app};

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

#[tokio::test]
async fn forwarded_requests_are_measured_under_one_route_per_service() {
    let (gateway, _product) = gateway_before_one("product", |_| {});
    for path in [
        "/api/v1/products",
        "/api/v1/products/1",
        "/api/v1/products/2",
    ] {
        assert_eq!(gateway.get(path).await.status().as_u16(), 200, "{path}");
    }
    let metrics = gateway
        .get("/metrics")
        .await
        .text()
        .await
        .expect("a text body");
    let line = metrics
        .lines()
        .find(|line| {
            line.starts_with("http_requests_total{")
                && line.contains(r#"route="/api/v1/products/**""#)
                && line.contains(r#"status="200""#)
        })
        .unwrap_or_else(|| panic!("no product route counter in\n{metrics}"));
    assert!(line.ends_with(" 3"), "three requests, one series: {line}");
    assert!(
        !metrics.contains(r#"route="/api/v1/products/1""#),
        "raw paths never become labels"
    );
}
