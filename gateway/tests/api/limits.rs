//! Limits at the edge: upstream deadline, body size, login and register attempts,
//! orders placed per user.

use actix_web::web::Bytes;

use crate::helpers::{gateway_before_one, problem_code, token_of, valid_token, TestGateway};
use crate::upstream::{TestUpstream, CHUNK, DELAY_HEADER, STALL_HEADER, STREAM_CHUNKS_HEADER};

#[tokio::test]
async fn an_upstream_slower_than_the_timeout_is_a_504_problem() {
    let (gateway, _product) = gateway_before_one("product", |settings| {
        settings.proxy.timeout_ms = 300;
    });
    let res = gateway
        .client
        .get(gateway.url("/api/v1/products"))
        .header(DELAY_HEADER, "2000")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 504);
    assert_eq!(problem_code(res).await, "upstream_timeout");
    // A slow instance is not a dead one: it stays in rotation.
    assert_eq!(gateway.get("/api/v1/products").await.status().as_u16(), 200);
}

#[tokio::test]
async fn a_large_response_streams_through_whole_and_in_order() {
    let (gateway, _product) = gateway_before_one("product", |_| {});
    let chunks = 64; // 4 MiB, four times the request body limit
    let res = gateway
        .client
        .get(gateway.url("/api/v1/products"))
        .header(STREAM_CHUNKS_HEADER, chunks.to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 200);
    let body = res.bytes().await.expect("the whole body");
    assert_eq!(body.len(), chunks * CHUNK);
    for (i, chunk) in body.chunks(CHUNK).enumerate() {
        assert!(chunk.iter().all(|&b| b == (i % 256) as u8), "chunk {i}");
    }
}

#[tokio::test]
async fn an_upstream_falling_silent_mid_body_is_cut_off_after_the_timeout() {
    let (gateway, _product) = gateway_before_one("product", |settings| {
        settings.proxy.timeout_ms = 300;
    });
    let started = std::time::Instant::now();
    let res = gateway
        .client
        .get(gateway.url("/api/v1/products"))
        .header(STREAM_CHUNKS_HEADER, "2")
        .header(STALL_HEADER, "5000")
        .send()
        .await
        .expect("the head arrives before the stall");
    assert_eq!(res.status().as_u16(), 200);
    // The client must not take a truncated body for a whole one.
    assert!(res.bytes().await.is_err(), "a cut-off body is an error");
    assert!(
        started.elapsed() < std::time::Duration::from_millis(4_000),
        "cut off at the timeout, not when the upstream resumed: {:?}",
        started.elapsed()
    );
    // The instance is slow, not dead: it stays in rotation.
    assert_eq!(gateway.get("/api/v1/products").await.status().as_u16(), 200);
}

#[tokio::test]
async fn a_body_declared_over_the_limit_is_a_413_problem_and_never_forwarded() {
    let (gateway, auth) = gateway_before_one("auth", |settings| {
        settings.proxy.max_body_bytes = 1024;
    });
    let res = gateway
        .client
        .post(gateway.url("/api/v1/auth/register"))
        .body(vec![b'x'; 1025])
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 413);
    assert_eq!(problem_code(res).await, "payload_too_large");
    assert_eq!(auth.requests(), 0);
    // At the limit, it goes through.
    let res = gateway
        .client
        .post(gateway.url("/api/v1/auth/register"))
        .body(vec![b'x'; 1024])
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 200);
}

#[tokio::test]
async fn a_streamed_body_growing_over_the_limit_is_a_413_problem() {
    let (gateway, auth) = gateway_before_one("auth", |settings| {
        settings.proxy.max_body_bytes = 1024;
    });
    // No Content-Length: chunked, so only counting the bytes finds out.
    let chunks = (0..4).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; 512])));
    let res = gateway
        .client
        .post(gateway.url("/api/v1/auth/login"))
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 413);
    assert_eq!(problem_code(res).await, "payload_too_large");
    assert_eq!(auth.requests(), 0, "the upstream handled a truncated body");
}

#[tokio::test]
async fn login_is_rate_limited_per_ip_after_the_burst_with_retry_after() {
    let (gateway, auth) = gateway_before_one("auth", |settings| {
        settings.rate_limit.per_minute = 1;
        settings.rate_limit.burst = 3;
    });
    let login = || {
        gateway
            .client
            .post(gateway.url("/api/v1/auth/login"))
            .body("{}")
            .send()
    };
    for attempt in 0..3 {
        assert_eq!(
            login().await.expect("request").status().as_u16(),
            200,
            "{attempt}"
        );
    }
    let res = login().await.expect("request");
    assert_eq!(res.status().as_u16(), 429);
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(problem_code(res).await, "rate_limited");
    assert_eq!(auth.requests(), 3);
    // Registering has its own quota, and other endpoints none.
    let register = gateway
        .client
        .post(gateway.url("/api/v1/auth/register"))
        .body("{}")
        .send()
        .await
        .expect("request");
    assert_eq!(register.status().as_u16(), 200);
}

/// Status of one login through `gateway` claiming `forwarded_for` as the client.
async fn login_as(gateway: &TestGateway, forwarded_for: &str) -> u16 {
    gateway
        .client
        .post(gateway.url("/api/v1/auth/login"))
        .header("x-forwarded-for", forwarded_for)
        .body("{}")
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

/// A gateway before an auth upstream, allowing one login per client and minute.
fn gateway_with_one_login_per_client(trusted_proxies: &[&str]) -> (TestGateway, TestUpstream) {
    gateway_before_one("auth", |settings| {
        settings.rate_limit.per_minute = 1;
        settings.rate_limit.burst = 1;
        settings.rate_limit.trusted_proxies =
            trusted_proxies.iter().map(|p| p.to_string()).collect();
    })
}

#[tokio::test]
async fn a_client_cannot_buy_fresh_quota_with_a_forged_forwarded_for() {
    // No trusted proxy: the TCP peer (this test, 127.0.0.1) is the client.
    let (gateway, _auth) = gateway_with_one_login_per_client(&[]);
    assert_eq!(login_as(&gateway, "198.51.100.1").await, 200);
    assert_eq!(login_as(&gateway, "198.51.100.2").await, 429);
}

#[tokio::test]
async fn behind_a_trusted_balancer_each_forwarded_client_has_its_own_quota() {
    // This test plays the balancer at 127.0.0.1, reporting two different clients.
    let (gateway, _auth) = gateway_with_one_login_per_client(&["127.0.0.0/8"]);
    assert_eq!(login_as(&gateway, "198.51.100.1").await, 200);
    assert_eq!(login_as(&gateway, "198.51.100.2").await, 200);
    assert_eq!(login_as(&gateway, "198.51.100.1").await, 429);
    // A forged entry before the balancer's own is not believed.
    assert_eq!(login_as(&gateway, "203.0.113.50, 198.51.100.2").await, 429);
}

#[tokio::test]
async fn login_spelled_with_percent_encoded_letters_is_still_rate_limited() {
    // auth-service decodes `logi%6e` to `login` and runs it, so the gateway must
    // count it as a login too, however the path is spelled. Any account's token
    // got such a spelling past the edge before (it was not the public login).
    let (gateway, auth) = gateway_with_one_login_per_client(&[]);
    let gateway = &gateway;
    let token = valid_token();
    let token = &token;
    let login = |path: &'static str| async move {
        let res = gateway
            .client
            .post(gateway.url(path))
            .bearer_auth(token)
            .body("{}")
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        let echo: Option<serde_json::Value> = res.json().await.ok();
        (status, echo)
    };
    let (status, echo) = login("/api/v1/auth/logi%6e").await;
    assert_eq!(status, 200);
    for path in [
        "/api/v1/auth/logi%6e",
        "/api/v1/auth/%6C%6F%67%69%6E",
        "/api/v1/%61uth/login",
        "/api/v1/auth/login",
    ] {
        assert_eq!(login(path).await.0, 429, "{path}");
    }
    assert_eq!(
        auth.requests(),
        1,
        "only the first login reached auth-service"
    );
    // The service is sent the path the gateway decided on.
    let echo = echo.expect("the upstream's echo");
    assert_eq!(echo["path"], "/api/v1/auth/login");
}

#[tokio::test]
async fn ipv6_clients_of_one_64_network_share_a_quota() {
    // This test plays a trusted balancer reporting IPv6 clients: one host can use
    // every address of its /64, so a /64 is one client.
    let (gateway, _auth) = gateway_with_one_login_per_client(&["127.0.0.0/8"]);
    assert_eq!(login_as(&gateway, "2001:db8:1:2::1").await, 200);
    assert_eq!(login_as(&gateway, "2001:db8:1:2:ffff::9").await, 429);
    // The next /64 is another client; IPv4 clients stay one address each.
    assert_eq!(login_as(&gateway, "2001:db8:1:3::1").await, 200);
    assert_eq!(login_as(&gateway, "198.51.100.1").await, 200);
    assert_eq!(login_as(&gateway, "198.51.100.2").await, 200);
    // An IPv4 client seen through a dual-stack socket is that IPv4 address.
    assert_eq!(login_as(&gateway, "::ffff:198.51.100.1").await, 429);
}

#[tokio::test]
async fn placing_orders_is_rate_limited_per_user_and_another_user_is_unaffected() {
    let (gateway, orders) = gateway_before_one("order", |settings| {
        settings.rate_limit.orders.per_minute = 1;
        settings.rate_limit.orders.burst = 3;
    });
    let gateway = &gateway;
    let place = |token: String| async move {
        gateway
            .client
            .post(gateway.url("/api/v1/orders"))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("request")
    };
    let alice_id = uuid::Uuid::now_v7();
    let (alice, bob) = (token_of(alice_id), token_of(uuid::Uuid::now_v7()));
    for attempt in 0..3 {
        let status = place(alice.clone()).await.status().as_u16();
        assert_eq!(status, 200, "{attempt}");
    }
    // A fresh token of the same user is the same user: the key is the subject.
    let res = place(token_of(alice_id)).await;
    assert_eq!(res.status().as_u16(), 429);
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(problem_code(res).await, "rate_limited");
    assert_eq!(
        orders.requests(),
        3,
        "the refused order reached order-service"
    );
    // Bob, from the same address, has his own quota; Alice may still read her orders.
    assert_eq!(place(bob).await.status().as_u16(), 200);
    let list = gateway
        .client
        .get(gateway.url("/api/v1/orders"))
        .bearer_auth(&alice)
        .send()
        .await
        .expect("request");
    assert_eq!(list.status().as_u16(), 200);
    assert_eq!(orders.requests(), 5);
}
