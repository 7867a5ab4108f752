//! An upstream that drops a kept-alive connection when the next request arrives on it,
//! as a service does when it restarts or its keep-alive ran out just then: an
//! idempotent request is sent again on a fresh connection, anything else is a 502.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::{problem_code, spawn_gateway, test_settings, valid_token, TestGateway};

/// Answers the first request of each connection (keeping it open), and closes the
/// connection without an answer when a second one arrives. Health checks are
/// answered every time.
struct DroppingUpstream {
    url: String,
    /// Connections that carried a request other than a health check.
    connections: Arc<AtomicUsize>,
}

impl DroppingUpstream {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, counted.clone()));
            }
        });
        Self { url, connections }
    }
}

async fn serve(mut stream: TcpStream, connections: Arc<AtomicUsize>) {
    let mut answered = false;
    loop {
        let Some(head) = read_head(&mut stream).await else {
            return;
        };
        let health = head.starts_with("GET /health ");
        if !health {
            if answered {
                return; // dropped without an answer
            }
            answered = true;
            connections.fetch_add(1, Ordering::SeqCst);
        }
        let body = r#"{"items":[]}"#;
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        if stream.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// The request head (bodies are skipped: the tests send none, or a small one within
/// the same read).
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut buf = vec![0; 8192];
    let mut read = 0;
    loop {
        let n = stream.read(&mut buf[read..]).await.ok()?;
        if n == 0 {
            return None;
        }
        read += n;
        let text = String::from_utf8_lossy(&buf[..read]);
        if let Some(end) = text.find("\r\n\r\n") {
            return Some(text[..end].to_owned());
        }
    }
}

fn gateway_before(upstream: &DroppingUpstream) -> TestGateway {
    let mut settings = test_settings();
    settings.upstreams.product.urls = vec![upstream.url.clone()];
    settings.upstreams.order.urls = vec![upstream.url.clone()];
    spawn_gateway(&settings)
}

#[tokio::test]
async fn a_get_on_a_connection_the_upstream_dropped_is_sent_again_on_a_fresh_one() {
    let upstream = DroppingUpstream::start().await;
    let gateway = gateway_before(&upstream);
    for _ in 0..3 {
        let res = gateway.get("/api/v1/products").await;
        assert_eq!(res.status().as_u16(), 200);
        assert_eq!(res.text().await.expect("body"), r#"{"items":[]}"#);
    }
    // Each request after the first met a dropped connection and was answered on a
    // new one.
    assert_eq!(upstream.connections.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_post_on_a_connection_the_upstream_dropped_is_a_502_not_sent_twice() {
    let upstream = DroppingUpstream::start().await;
    let gateway = gateway_before(&upstream);
    let token = valid_token();
    let post = || {
        gateway
            .client
            .post(gateway.url("/api/v1/orders"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body("{}")
            .send()
    };
    assert_eq!(post().await.expect("request").status().as_u16(), 200);
    let res = post().await.expect("request");
    assert_eq!(res.status().as_u16(), 502);
    assert_eq!(problem_code(res).await, "bad_gateway");
    assert_eq!(upstream.connections.load(Ordering::SeqCst), 1);
    // A dropped connection says nothing about the instance: it stays in rotation.
    assert_eq!(gateway.get("/api/v1/products").await.status().as_u16(), 200);
}
