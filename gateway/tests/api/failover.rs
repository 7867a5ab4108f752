//! Instances die and come back: traffic goes to the healthy ones, a 503 when none is,
//! and a restarted instance gets traffic again without restarting the gateway.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::{eventually, problem_code, spawn_gateway, test_settings, TestGateway};
use crate::upstream::TestUpstream;

fn gateway_before(instances: &[&TestUpstream]) -> TestGateway {
    let mut settings = test_settings();
    settings.upstreams.product.urls = instances.iter().map(|i| i.url.clone()).collect();
    spawn_gateway(&settings)
}

async fn instance_answering(gateway: &TestGateway) -> (u16, Option<String>) {
    let res = gateway.get("/api/v1/products").await;
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or_default();
    (status, body["instance"].as_str().map(str::to_owned))
}

#[tokio::test]
async fn requests_go_round_robin_over_the_instances() {
    let (a, b) = (TestUpstream::start("a"), TestUpstream::start("b"));
    let gateway = gateway_before(&[&a, &b]);
    for _ in 0..6 {
        assert_eq!(gateway.get("/api/v1/products").await.status().as_u16(), 200);
    }
    assert_eq!((a.requests(), b.requests()), (3, 3));
}

#[tokio::test]
async fn requests_keep_succeeding_when_one_of_two_instances_dies() {
    let (a, b) = (TestUpstream::start("a"), TestUpstream::start("b"));
    let gateway = gateway_before(&[&a, &b]);
    assert_eq!(gateway.get("/api/v1/products").await.status().as_u16(), 200);
    a.kill().await;
    // Immediately, before a health check noticed: the failed connection is retried.
    for _ in 0..10 {
        assert_eq!(
            instance_answering(&gateway).await,
            (200, Some("b".to_owned()))
        );
    }
}

#[tokio::test]
async fn no_healthy_instance_is_a_503_problem_until_one_restarts() {
    let (a, b) = (TestUpstream::start("a"), TestUpstream::start("b"));
    let gateway = gateway_before(&[&a, &b]);
    assert_eq!(gateway.get("/api/v1/products").await.status().as_u16(), 200);
    a.kill().await;
    b.kill().await;

    let res = gateway.get("/api/v1/products").await;
    assert_eq!(res.status().as_u16(), 503);
    assert_eq!(problem_code(res).await, "upstream_unavailable");

    let _a = a.restart();
    eventually(
        Duration::from_secs(5),
        "the restarted instance answers",
        || async { instance_answering(&gateway).await == (200, Some("a".to_owned())) },
    )
    .await;
    for _ in 0..5 {
        assert_eq!(
            instance_answering(&gateway).await,
            (200, Some("a".to_owned()))
        );
    }
}

#[tokio::test]
async fn a_post_to_a_dead_instance_is_not_retried_elsewhere() {
    let (a, b) = (TestUpstream::start("a"), TestUpstream::start("b"));
    let mut settings = test_settings();
    settings.upstreams.order.urls = vec![a.url.clone(), b.url.clone()];
    // No health checks during the test: only the failed request marks `a` down.
    settings.health_check.interval_ms = 60_000;
    a.kill().await;
    let gateway = spawn_gateway(&settings);
    let token = crate::helpers::valid_token();
    let mut statuses = Vec::new();
    // Round robin sends the first request to `a`, not yet known to be dead.
    for _ in 0..2 {
        let res = gateway
            .client
            .post(gateway.url("/api/v1/orders"))
            .bearer_auth(&token)
            .body("{}")
            .send()
            .await
            .expect("request");
        statuses.push(res.status().as_u16());
    }
    // The request that met `a` is a 503 (a POST may not be repeated); `a` is out of
    // rotation after it, so the next one reaches `b`.
    assert_eq!(statuses, [503, 200]);
    assert_eq!(b.requests(), 1);
}
