//! A recording HTTP proxy in front of the sandbox: every call payment-service makes is
//! forwarded unchanged, and its method, path, idempotency key and the sandbox's answer
//! status are noted, so a test counts what the provider really did (201: a session or
//! refund made; 200: a replay of an earlier call). It can also hold the answer to the
//! next session creation back, as a network that loses an answer does.

use std::net::TcpListener;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};

/// One call through the proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub key: Option<String>,
    /// The sandbox's answer.
    pub status: u16,
}

#[derive(Default)]
struct State {
    upstream: String,
    client: reqwest::Client,
    calls: Mutex<Vec<Call>>,
    /// Holds this long the answers to the next this-many session creations.
    hold: Mutex<(usize, Duration)>,
}

/// The proxy, running until the test ends.
pub struct Proxy {
    state: Arc<State>,
}

impl Proxy {
    /// Listens on `port` and forwards to `upstream`.
    pub async fn start(port: u16, upstream: &str) -> Self {
        let state = Arc::new(State {
            upstream: upstream.to_owned(),
            ..State::default()
        });
        let data = web::Data::from(state.clone());
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("binds the provider port");
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(forward))
        })
        .listen(listener)
        .expect("listens")
        .disable_signals()
        .workers(1)
        .run();
        tokio::spawn(server);
        Self { state }
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.state
            .calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Calls to `method path` answered `status`.
    pub fn count(&self, method: &str, path: &str, status: u16) -> usize {
        self.calls()
            .iter()
            .filter(|c| c.method == method && c.path == path && c.status == status)
            .count()
    }

    /// Sessions the sandbox created (201 to `POST /v1/checkout/sessions`).
    pub fn sessions_created(&self) -> usize {
        self.count("POST", "/v1/checkout/sessions", 201)
    }

    /// Refunds the sandbox made (201 to `POST /v1/refunds`).
    pub fn refunds_made(&self) -> usize {
        self.count("POST", "/v1/refunds", 201)
    }

    /// The next `count` session creations reach the sandbox, but their answers come
    /// back only after `delay` (longer than the caller's timeout: the answer is lost).
    pub fn hold_session_answers(&self, count: usize, delay: Duration) {
        *self
            .state
            .hold
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = (count, delay);
    }
}

async fn forward(req: HttpRequest, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    let path = req.uri().path().to_owned();
    let key = req
        .headers()
        .get("Idempotency-Key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes())
        .unwrap_or(reqwest::Method::GET);
    let mut request = state
        .client
        .request(method, format!("{}{}", state.upstream, req.uri()))
        .body(body.to_vec());
    for name in ["Content-Type", "Idempotency-Key"] {
        if let Some(value) = req.headers().get(name).and_then(|v| v.to_str().ok()) {
            request = request.header(name, value);
        }
    }
    let Ok(response) = request.send().await else {
        return HttpResponse::BadGateway().finish();
    };
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("Content-Type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_owned();
    let bytes = response.bytes().await.unwrap_or_default();
    state
        .calls
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Call {
            method: req.method().as_str().to_owned(),
            path: path.clone(),
            key,
            status,
        });
    if req.method().as_str() == "POST" && path == "/v1/checkout/sessions" {
        let delay = {
            let mut hold = state.hold.lock().unwrap_or_else(PoisonError::into_inner);
            if hold.0 > 0 {
                hold.0 -= 1;
                Some(hold.1)
            } else {
                None
            }
        };
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
    }
    let status = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::BAD_GATEWAY);
    HttpResponse::build(status)
        .content_type(content_type)
        .body(bytes)
}
