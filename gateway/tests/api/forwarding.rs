//! Requests reach the service owning their prefix, with what the client sent and
//! what the edge adds; responses come back without hop-by-hop headers.

use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use uuid::Uuid;

use crate::helpers::{gateway_before_one, spawn_gateway, test_settings, valid_token, TestGateway};
use crate::upstream::TestUpstream;

struct Services {
    auth: TestUpstream,
    user: TestUpstream,
    order: TestUpstream,
    product: TestUpstream,
}

fn gateway_before_all_four() -> (TestGateway, Services) {
    let services = Services {
        auth: TestUpstream::start("auth"),
        user: TestUpstream::start("user"),
        order: TestUpstream::start("order"),
        product: TestUpstream::start("product"),
    };
    let mut settings = test_settings();
    settings.upstreams.auth.urls = vec![services.auth.url.clone()];
    settings.upstreams.user.urls = vec![services.user.url.clone()];
    settings.upstreams.order.urls = vec![services.order.url.clone()];
    settings.upstreams.product.urls = vec![services.product.url.clone()];
    (spawn_gateway(&settings), services)
}

fn header<'a>(echo: &'a Value, name: &str) -> Option<&'a str> {
    echo["headers"][name][0].as_str()
}

#[tokio::test]
async fn requests_are_routed_by_prefix_to_the_owning_service() {
    let (gateway, services) = gateway_before_all_four();
    let token = valid_token();
    let cases = [
        ("/api/v1/auth/accounts/7", "auth"),
        ("/.well-known/jwks.json", "auth"),
        ("/api/v1/users/me", "user"),
        ("/api/v1/orders", "order"),
        ("/api/v1/orders/1/timeline", "order"),
        ("/api/v1/products/42", "product"),
    ];
    for (path, service) in cases {
        let res = gateway
            .client
            .get(gateway.url(path))
            .bearer_auth(&token)
            .send()
            .await
            .expect("request");
        assert_eq!(res.status().as_u16(), 200, "{path}");
        let echo: Value = res.json().await.expect("echo");
        assert_eq!(echo["instance"], service, "{path}");
        assert_eq!(echo["path"], path);
    }
    assert_eq!(services.auth.requests(), 2);
    assert_eq!(services.user.requests(), 1);
    assert_eq!(services.order.requests(), 2);
    assert_eq!(services.product.requests(), 1);
}

#[tokio::test]
async fn method_path_query_body_and_end_to_end_headers_reach_the_upstream() {
    let (gateway, _services) = gateway_before_all_four();
    let token = valid_token();
    let res = gateway
        .client
        .post(gateway.url("/api/v1/orders/9/cancel?reason=late&x=%20y"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .header("idempotency-key", "k-1")
        .header("x-forwarded-for", "203.0.113.7")
        .body(r#"{"why":"late"}"#)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["x-upstream"], "order");
    let echo: Value = res.json().await.expect("echo");
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["path"], "/api/v1/orders/9/cancel");
    assert_eq!(echo["query"], "reason=late&x=%20y");
    assert_eq!(echo["body"], r#"{"why":"late"}"#);
    let bearer = format!("Bearer {token}");
    assert_eq!(header(&echo, "authorization"), Some(bearer.as_str()));
    assert_eq!(header(&echo, "content-type"), Some("application/json"));
    assert_eq!(header(&echo, "idempotency-key"), Some("k-1"));
    assert_eq!(
        header(&echo, "x-forwarded-for"),
        Some("203.0.113.7, 127.0.0.1")
    );
    assert_eq!(header(&echo, "x-forwarded-proto"), Some("http"));
    let host = gateway.address.trim_start_matches("http://");
    assert_eq!(header(&echo, "x-forwarded-host"), Some(host));
}

#[tokio::test]
async fn the_client_address_is_the_forwarded_for_when_no_proxy_came_before() {
    let (gateway, _services) = gateway_before_all_four();
    let echo: Value = gateway
        .get("/api/v1/products")
        .await
        .json()
        .await
        .expect("echo");
    assert_eq!(header(&echo, "x-forwarded-for"), Some("127.0.0.1"));
}

#[tokio::test]
async fn request_and_correlation_ids_are_created_forwarded_and_echoed() {
    let (gateway, _services) = gateway_before_all_four();
    let res = gateway.get("/api/v1/products").await;
    let request_id = res.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let correlation_id = res.headers()["x-correlation-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let parsed = Uuid::parse_str(&request_id).expect("the request id is a UUID");
    assert_eq!(parsed.get_version_num(), 7);
    Uuid::parse_str(&correlation_id).expect("the correlation id is a UUID");
    let echo: Value = res.json().await.expect("echo");
    assert_eq!(header(&echo, "x-request-id"), Some(request_id.as_str()));
    assert_eq!(
        header(&echo, "x-correlation-id"),
        Some(correlation_id.as_str())
    );
}

#[tokio::test]
async fn ids_sent_by_the_client_are_kept() {
    let (gateway, _services) = gateway_before_all_four();
    let correlation_id = Uuid::now_v7().to_string();
    let res = gateway
        .client
        .get(gateway.url("/api/v1/products"))
        .header("x-request-id", "client-req-1")
        .header("x-correlation-id", &correlation_id)
        .send()
        .await
        .expect("request");
    assert_eq!(res.headers()["x-request-id"], "client-req-1");
    assert_eq!(res.headers()["x-correlation-id"], correlation_id.as_str());
    let echo: Value = res.json().await.expect("echo");
    assert_eq!(header(&echo, "x-request-id"), Some("client-req-1"));
    assert_eq!(
        header(&echo, "x-correlation-id"),
        Some(correlation_id.as_str())
    );
}

#[tokio::test]
async fn a_clients_own_correlation_id_that_is_no_uuid_is_kept_echoed_and_forwarded() {
    let (gateway, _services) = gateway_before_all_four();
    let longest = "~".repeat(128);
    for correlation_id in ["req-001", "a", longest.as_str()] {
        let res = gateway
            .client
            .get(gateway.url("/api/v1/products"))
            .header("x-correlation-id", correlation_id)
            .send()
            .await
            .expect("request");
        assert_eq!(res.headers()["x-correlation-id"], correlation_id);
        let echo: Value = res.json().await.expect("echo");
        assert_eq!(header(&echo, "x-correlation-id"), Some(correlation_id));
    }
}

#[tokio::test]
async fn a_correlation_id_too_long_or_with_spaces_or_controls_is_replaced() {
    let (gateway, _services) = gateway_before_all_four();
    let too_long = "x".repeat(129);
    for correlation_id in [too_long.as_str(), "req 001", "req\t001", ""] {
        let res = gateway
            .client
            .get(gateway.url("/api/v1/products"))
            .header("x-correlation-id", correlation_id)
            .send()
            .await
            .expect("request");
        let echoed = res.headers()["x-correlation-id"]
            .to_str()
            .expect("ascii")
            .to_owned();
        let uuid = Uuid::parse_str(&echoed).expect("replaced by a UUID");
        assert_eq!(uuid.get_version_num(), 7, "{correlation_id:?}");
        let echo: Value = res.json().await.expect("echo");
        assert_eq!(header(&echo, "x-correlation-id"), Some(echoed.as_str()));
    }
}

#[tokio::test]
async fn hop_by_hop_headers_are_stripped_both_ways() {
    let (gateway, _services) = gateway_before_all_four();
    let res = gateway
        .client
        .get(gateway.url("/api/v1/products"))
        .header("connection", "keep-alive, x-hop")
        .header("x-hop", "secret")
        .header("keep-alive", "timeout=5")
        .header("proxy-authorization", "Basic Zm9vOmJhcg==")
        .header("upgrade", "websocket")
        .header("te", "trailers")
        .header("x-end-to-end", "kept")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 200);
    assert!(
        res.headers().get("proxy-status").is_none(),
        "Proxy-* from the upstream reached the client"
    );
    let echo: Value = res.json().await.expect("echo");
    for name in [
        "x-hop",
        "keep-alive",
        "proxy-authorization",
        "upgrade",
        "te",
    ] {
        assert_eq!(header(&echo, name), None, "{name} crossed the gateway");
    }
    // The upstream's own connection header comes from the gateway's client, not ours.
    assert_ne!(header(&echo, "connection"), Some("keep-alive, x-hop"));
    assert_eq!(header(&echo, "x-end-to-end"), Some("kept"));
}

#[tokio::test]
async fn paths_with_dot_segments_are_refused_before_routing() {
    let (gateway, services) = gateway_before_all_four();
    // Written by hand: HTTP clients normalise dot segments away before sending.
    let address = gateway.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.expect("connects");
    let request = format!(
        "GET /api/v1/products/%2e%2e/orders HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("writes");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("reads");
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    assert!(response.contains("invalid_path"), "{response}");
    assert_eq!(services.product.requests() + services.order.requests(), 0);
}

#[tokio::test]
async fn a_cors_preflight_from_an_allowed_origin_is_answered_at_the_edge() {
    let (gateway, services) = gateway_before_all_four();
    let res = gateway
        .client
        .request(reqwest::Method::OPTIONS, gateway.url("/api/v1/orders"))
        .header("origin", "http://localhost:3000")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "http://localhost:3000"
    );
    assert_eq!(services.order.requests(), 0);
}

#[tokio::test]
async fn a_provider_webhook_reaches_payment_service_without_a_token_byte_for_byte() {
    let (gateway, payments) = gateway_before_one("payment", |_| {});
    // The signature covers the raw body, so the gateway must not re-encode it.
    let body = "{\"id\":\"evt_1\",  \"type\":\"checkout.session.completed\"}\n";
    let res = gateway
        .client
        .post(gateway.url("/api/v1/payments/webhooks/sandbox"))
        .header("content-type", "application/json")
        .header("sandbox-signature", "t=1,v1=00")
        .body(body)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 200);
    let echo: Value = res.json().await.expect("echo");
    assert_eq!(echo["instance"], "payment");
    assert_eq!(echo["body"], body);
    assert_eq!(header(&echo, "sandbox-signature"), Some("t=1,v1=00"));

    let read = gateway.get("/api/v1/payments/webhooks/sandbox").await;
    assert_eq!(read.status().as_u16(), 401);
    let payments_list = gateway.get("/api/v1/payments?order_id=1").await;
    assert_eq!(payments_list.status().as_u16(), 401);
    assert_eq!(payments.requests(), 1, "only the webhook was forwarded");
}
