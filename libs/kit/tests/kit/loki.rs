//! The real telemetry subscriber against a fake Loki: which labels arrive, and that span fields
//! travel inside the JSON line, where Grafana's `| json` finds them.
//!
//! The fake accepts Loki's push API as tracing-loki 0.2 speaks it: `POST /loki/api/v1/push`,
//! a snappy-compressed (block format) protobuf `PushRequest`.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use comanda_kit::telemetry;
use loki_api::logproto::PushRequest;
use loki_api::prost::Message;
use serde_json::Value;

/// One pushed stream: its labels and its lines.
#[derive(Debug)]
struct Stream {
    labels: BTreeMap<String, String>,
    lines: Vec<Value>,
}

type Received = Arc<Mutex<Vec<Stream>>>;

/// Parses Loki's label notation, `{service="order-service",env="test",level="info"}`.
fn parse_labels(text: &str) -> BTreeMap<String, String> {
    let inner = text
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .expect("labels in braces");
    let mut labels = BTreeMap::new();
    let mut rest = inner;
    while !rest.is_empty() {
        let (key, after) = rest.split_once("=\"").expect("key=\"value\"");
        let (mut value, mut escaped, mut end) = (String::new(), false, after.len());
        for (i, c) in after.char_indices() {
            match c {
                _ if escaped => {
                    value.push(c);
                    escaped = false;
                }
                '\\' => escaped = true,
                '"' => {
                    end = i;
                    break;
                }
                _ => value.push(c),
            }
        }
        labels.insert(key.trim_start_matches(',').to_owned(), value);
        rest = &after[end + 1..];
    }
    labels
}

async fn push(
    request: HttpRequest,
    body: web::Bytes,
    received: web::Data<Received>,
) -> HttpResponse {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("content-type"), "application/x-protobuf");
    assert_eq!(header("content-encoding"), "snappy");
    let raw = snap::raw::Decoder::new()
        .decompress_vec(&body)
        .expect("a snappy block");
    let pushed = PushRequest::decode(raw.as_slice()).expect("a PushRequest");
    let mut streams = received.lock().expect("not poisoned");
    for stream in pushed.streams {
        streams.push(Stream {
            labels: parse_labels(&stream.labels),
            lines: stream
                .entries
                .iter()
                .map(|entry| serde_json::from_str(&entry.line).expect("each line is JSON"))
                .collect(),
        });
    }
    HttpResponse::NoContent().finish()
}

/// A fake Loki on a free port: its base URL, what it received, and its handle.
fn fake_loki() -> (String, Received, actix_web::dev::ServerHandle) {
    let received: Received = Arc::default();
    let data = web::Data::new(received.clone());
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let url = format!("http://{}", listener.local_addr().expect("bound"));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/loki/api/v1/push", web::post().to(push))
    })
    .workers(1)
    .listen(listener)
    .expect("listening")
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    (url, received, handle)
}

/// Whether the fake Loki has received a line with each of `messages`.
fn arrived(received: &Received, messages: &[&str]) -> bool {
    let streams = received.lock().expect("not poisoned");
    messages.iter().all(|message| {
        streams
            .iter()
            .flat_map(|s| &s.lines)
            .any(|line| line["message"] == *message)
    })
}

#[tokio::test]
async fn loki_gets_only_the_service_env_and_level_labels_and_span_fields_in_each_line() {
    let (url, received, server) = fake_loki();
    let (subscriber, shipper) =
        telemetry::subscriber("order-service", "test", Some(&url), std::io::sink)
            .expect("a subscriber");
    let shipper = tokio::spawn(shipper.expect("a Loki shipper when a URL is given"));
    let dispatch = tracing::Dispatch::new(subscriber);

    tracing::dispatcher::with_default(&dispatch, || {
        // The spans the kit's request middleware and the inbox open, with their fields.
        let request = tracing::info_span!(
            "http_request",
            route = "/api/v1/orders/{id}/cancel",
            correlation_id = "0192b6c5-corr",
        );
        let _request = request.enter();
        tracing::info!(order_id = "0192b6c5-order", "request finished");
        let inbox = tracing::info_span!(
            "inbox",
            consumer = "order-service",
            event_type = "inventory.stock.reserved",
            event_id = "0192b6c5-event",
        );
        let _inbox = inbox.enter();
        tracing::error!("handler failed");
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while !arrived(&received, &["request finished", "handler failed"]) {
        assert!(
            Instant::now() < deadline,
            "the lines did not reach the fake Loki within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Stop the shipper while the subscriber (the sender of its channel) is still alive:
    // tracing-loki 0.2.7's shipper busy-loops once that channel is closed.
    shipper.abort();
    let _ = shipper.await;
    drop(dispatch);
    server.stop(true).await;

    let streams = received.lock().expect("not poisoned");
    assert!(!streams.is_empty(), "nothing reached the fake Loki");
    // What really arrives: our two labels, plus `level`, which tracing-loki adds to every
    // stream (one stream per level). No per-request value ever becomes a label.
    for stream in streams.iter() {
        let keys: Vec<&str> = stream.labels.keys().map(String::as_str).collect();
        assert_eq!(keys, ["env", "level", "service"], "labels of {stream:?}");
        assert_eq!(stream.labels["service"], "order-service");
        assert_eq!(stream.labels["env"], "test");
    }
    let line = |message: &str| {
        streams
            .iter()
            .flat_map(|s| s.lines.iter().map(move |line| (&s.labels["level"], line)))
            .find(|(_, line)| line["message"] == message)
            .unwrap_or_else(|| panic!("no line `{message}` in {streams:?}"))
    };

    let (level, finished) = line("request finished");
    assert_eq!(level, "info");
    // Span fields are flattened into the line next to the event's own fields.
    assert_eq!(finished["correlation_id"], "0192b6c5-corr");
    assert_eq!(finished["route"], "/api/v1/orders/{id}/cancel");
    assert_eq!(finished["order_id"], "0192b6c5-order");

    let (level, failed) = line("handler failed");
    assert_eq!(level, "error");
    assert_eq!(
        failed["correlation_id"], "0192b6c5-corr",
        "outer span fields too"
    );
    assert_eq!(failed["event_type"], "inventory.stock.reserved");
    assert_eq!(failed["event_id"], "0192b6c5-event");
    assert_eq!(
        failed["_spans"],
        serde_json::json!(["http_request", "inbox"])
    );
}
