//! Protected routes need a valid access token at the edge; public ones do not.

use crate::helpers::{
    bad_tokens, gateway_before_one, problem_code, spawn_gateway, test_settings, valid_token,
};
use crate::upstream::TestUpstream;

#[tokio::test]
async fn protected_routes_refuse_missing_invalid_expired_and_alg_none_tokens_before_any_upstream_call(
) {
    let order = TestUpstream::start("order");
    let auth = TestUpstream::start("auth");
    let mut settings = test_settings();
    settings.upstreams.order.urls = vec![order.url.clone()];
    settings.upstreams.auth.urls = vec![auth.url.clone()];
    let gateway = spawn_gateway(&settings);

    let missing = gateway.get("/api/v1/orders").await;
    assert_eq!(missing.status().as_u16(), 401);
    assert_eq!(problem_code(missing).await, "unauthorized");
    let not_bearer = gateway
        .client
        .get(gateway.url("/api/v1/auth/accounts/1"))
        .header("authorization", "Basic Zm9vOmJhcg==")
        .send()
        .await
        .expect("request");
    assert_eq!(not_bearer.status().as_u16(), 401);
    for (what, token) in bad_tokens() {
        let res = gateway
            .client
            .post(gateway.url("/api/v1/orders"))
            .bearer_auth(&token)
            .body("{}")
            .send()
            .await
            .expect("request");
        assert_eq!(res.status().as_u16(), 401, "{what}");
        assert_eq!(problem_code(res).await, "invalid_token", "{what}");
    }
    assert_eq!(
        order.requests(),
        0,
        "an unauthenticated request reached order-service"
    );
    assert_eq!(
        auth.requests(),
        0,
        "an unauthenticated request reached auth-service"
    );
}

#[tokio::test]
async fn a_valid_token_passes() {
    let (gateway, order) = gateway_before_one("order", |_| {});
    let res = gateway
        .client
        .get(gateway.url("/api/v1/orders"))
        .bearer_auth(valid_token())
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(order.requests(), 1);
}

#[tokio::test]
async fn public_routes_pass_without_a_token() {
    let auth = TestUpstream::start("auth");
    let product = TestUpstream::start("product");
    let mut settings = test_settings();
    settings.upstreams.auth.urls = vec![auth.url.clone()];
    settings.upstreams.product.urls = vec![product.url.clone()];
    let gateway = spawn_gateway(&settings);
    for path in [
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
    ] {
        let res = gateway
            .client
            .post(gateway.url(path))
            .body("{}")
            .send()
            .await
            .expect("request");
        assert_eq!(res.status().as_u16(), 200, "POST {path}");
    }
    for path in [
        "/api/v1/products",
        "/api/v1/products/1",
        "/.well-known/jwks.json",
    ] {
        assert_eq!(gateway.get(path).await.status().as_u16(), 200, "GET {path}");
    }
    let head = gateway
        .client
        .head(gateway.url("/api/v1/products/1"))
        .send()
        .await
        .expect("request");
    assert_eq!(head.status().as_u16(), 200);
    assert_eq!(auth.requests(), 5);
    assert_eq!(product.requests(), 3);
}

#[tokio::test]
async fn writes_to_the_catalogue_need_a_token() {
    let (gateway, product) = gateway_before_one("product", |_| {});
    let res = gateway
        .client
        .post(gateway.url("/api/v1/products"))
        .body("{}")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 401);
    assert_eq!(product.requests(), 0);
}

#[tokio::test]
async fn a_registrant_polls_its_account_with_a_poll_token_but_other_auth_reads_need_a_token() {
    let (gateway, auth) = gateway_before_one("auth", |_| {});
    let poll = |path: &'static str| {
        gateway
            .client
            .get(gateway.url(path))
            .header("x-poll-token", "opaque")
            .send()
    };

    // Passed through: auth-service is the one that can check a poll token.
    assert_eq!(
        poll("/api/v1/auth/accounts/1")
            .await
            .expect("request")
            .status()
            .as_u16(),
        200
    );
    assert_eq!(auth.requests(), 1);
    // A poll token opens nothing else.
    let other = poll("/api/v1/auth/other").await.expect("request");
    assert_eq!(other.status().as_u16(), 401);
    let no_token = gateway.get("/api/v1/auth/accounts/1").await;
    assert_eq!(no_token.status().as_u16(), 401);
    // However the path is spelled, the edge decides on the one auth-service routes.
    let encoded = poll("/api/v1/auth/%61ccounts/1").await.expect("request");
    assert_eq!(encoded.status().as_u16(), 200);
    let encoded_other = poll("/api/v1/auth/%6fther").await.expect("request");
    assert_eq!(encoded_other.status().as_u16(), 401);
    assert_eq!(
        auth.requests(),
        2,
        "refused requests never reach auth-service"
    );
}
