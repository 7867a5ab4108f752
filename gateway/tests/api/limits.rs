//! Limits at the edge: upstream deadline, body size, login and register attempts.

use actix_web::web::Bytes;

use crate::helpers::{problem_code, spawn_gateway, test_settings};
use crate::upstream::{TestUpstream, CHUNK, DELAY_HEADER, STALL_HEADER, STREAM_CHUNKS_HEADER};

#[tokio::test]
async fn an_upstream_slower_than_the_timeout_is_a_504_problem() {
    let product = TestUpstream::start("product");
    let mut settings = test_settings();
    settings.upstreams.product.urls = vec![product.url.clone()];
    settings.proxy.timeout_ms = 300;
    let gateway = spawn_gateway(&settings);
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
    let product = TestUpstream::start("product");
    let mut settings = test_settings();
    settings.upstreams.product.urls = vec![product.url.clone()];
    let gateway = spawn_gateway(&settings);
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
    let product = TestUpstream::start("product");
    let mut settings = test_settings();
    settings.upstreams.product.urls = vec![product.url.clone()];
    settings.proxy.timeout_ms = 300;
    let gateway = spawn_gateway(&settings);
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
    let auth = TestUpstream::start("auth");
    let mut settings = test_settings();
    settings.upstreams.auth.urls = vec![auth.url.clone()];
    settings.proxy.max_body_bytes = 1024;
    let gateway = spawn_gateway(&settings);
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
    let auth = TestUpstream::start("auth");
    let mut settings = test_settings();
    settings.upstreams.auth.urls = vec![auth.url.clone()];
    settings.proxy.max_body_bytes = 1024;
    let gateway = spawn_gateway(&settings);
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
    let auth = TestUpstream::start("auth");
    let mut settings = test_settings();
    settings.upstreams.auth.urls = vec![auth.url.clone()];
    settings.rate_limit.per_minute = 1;
    settings.rate_limit.burst = 3;
    let gateway = spawn_gateway(&settings);
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
