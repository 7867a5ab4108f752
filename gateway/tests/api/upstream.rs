//! Real HTTP servers standing in for the services: they echo what they received as
//! JSON and count the requests they served, so tests see what crossed the gateway.
//! One may also serve an OpenAPI document at `/openapi.json`, as the services do.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use futures::StreamExt as _;
use serde_json::{json, Value};

/// Request header asking the echo to wait this many milliseconds before answering.
pub const DELAY_HEADER: &str = "x-test-delay-ms";
/// Request header asking, instead of the echo, for a chunked body of this many
/// [`CHUNK`]s (no `Content-Length`).
pub const STREAM_CHUNKS_HEADER: &str = "x-test-stream-chunks";
/// With [`STREAM_CHUNKS_HEADER`]: milliseconds of silence after the first chunk.
pub const STALL_HEADER: &str = "x-test-stall-ms";
/// One chunk of a streamed answer: 64 KiB, each byte its chunk's number (mod 256),
/// so a reordered or lost chunk shows.
pub const CHUNK: usize = 64 * 1024;

/// One running upstream instance.
pub struct TestUpstream {
    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub url: String,
    /// The bound port (to restart on it).
    pub port: u16,
    name: String,
    openapi: Option<Value>,
    requests: Arc<AtomicUsize>,
    handle: ServerHandle,
}

impl TestUpstream {
    /// Starts an instance called `name` on a free port.
    pub fn start(name: &str) -> Self {
        Self::start_on(name, 0)
    }

    /// Starts an instance called `name` on `port` (0 for a free one).
    pub fn start_on(name: &str, port: u16) -> Self {
        Self::serve(name, port, None)
    }

    /// Starts an instance called `name` on a free port that serves `doc` at
    /// `GET /openapi.json`.
    pub fn with_openapi(name: &str, doc: Value) -> Self {
        Self::serve(name, 0, Some(doc))
    }

    fn serve(name: &str, port: u16, openapi: Option<Value>) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("binds the upstream");
        let port = listener.local_addr().expect("local address").port();
        let requests = Arc::new(AtomicUsize::new(0));
        let state = web::Data::new(Echo {
            name: name.to_owned(),
            requests: requests.clone(),
        });
        let doc = openapi.clone();
        let server = HttpServer::new(move || {
            let app = App::new()
                .app_data(state.clone())
                .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
                .route("/health", web::get().to(HttpResponse::Ok));
            let app = match doc.clone() {
                Some(doc) => app.route(
                    "/openapi.json",
                    web::get().to(move || {
                        let doc = doc.clone();
                        async move { HttpResponse::Ok().json(doc) }
                    }),
                ),
                None => app,
            };
            app.default_service(web::to(echo))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listens")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}"),
            port,
            name: name.to_owned(),
            openapi,
            requests,
            handle,
        }
    }

    /// How many requests (health checks aside) this instance served.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Kills the instance: connections are dropped and the port closes.
    pub async fn kill(&self) {
        self.handle.stop(false).await;
    }

    /// Starts a new instance with the same name (and document) on the same port.
    pub fn restart(&self) -> Self {
        Self::serve(&self.name, self.port, self.openapi.clone())
    }
}

struct Echo {
    name: String,
    requests: Arc<AtomicUsize>,
}

fn header_number(req: &HttpRequest, name: &str) -> Option<u64> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// `chunks` chunks of [`CHUNK`] bytes, sent one by one, with `stall_ms` of silence
/// after the first.
fn streamed(chunks: u64, stall_ms: u64) -> HttpResponse {
    let body = futures::stream::iter(0..chunks).then(move |i| async move {
        if i == 1 && stall_ms > 0 {
            tokio::time::sleep(Duration::from_millis(stall_ms)).await;
        }
        Ok::<_, std::io::Error>(web::Bytes::from(vec![(i % 256) as u8; CHUNK]))
    });
    HttpResponse::Ok().streaming(body)
}

/// Answers with everything it received; `x-upstream` names the instance, and a
/// `Proxy-Status` header lets tests check hop-by-hop response headers are dropped.
async fn echo(req: HttpRequest, body: web::Bytes, echo: web::Data<Echo>) -> HttpResponse {
    echo.requests.fetch_add(1, Ordering::SeqCst);
    let delay = req
        .headers()
        .get(DELAY_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    if let Some(ms) = delay {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    if let Some(chunks) = header_number(&req, STREAM_CHUNKS_HEADER) {
        return streamed(chunks, header_number(&req, STALL_HEADER).unwrap_or(0));
    }
    let mut headers = BTreeMap::<String, Vec<String>>::new();
    for (name, value) in req.headers() {
        headers
            .entry(name.as_str().to_owned())
            .or_default()
            .push(String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    HttpResponse::Ok()
        .insert_header(("x-upstream", echo.name.as_str()))
        .insert_header(("proxy-status", "echo"))
        .json(json!({
            "instance": echo.name,
            "method": req.method().as_str(),
            "path": req.path(),
            "query": req.query_string(),
            "headers": headers,
            "body": String::from_utf8_lossy(&body),
        }))
}
