//! The access line every request ends with, as the real subscriber writes it.
//!
//! The server's workers log on their own threads, so the capture is the process's
//! global subscriber: nextest runs each test in a process of its own.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use comanda_kit::correlation;
use comanda_kit::health::Readiness;
use comanda_kit::telemetry;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::spawn;

/// Everything the subscriber wrote, shared with the test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// The JSON lines written so far whose message is `message`.
    fn lines_with(&self, message: &str) -> Vec<Value> {
        let bytes = self.0.lock().expect("not poisoned").clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(|line| serde_json::from_str::<Value>(line).expect("every line is JSON"))
            .filter(|line| line["fields"]["message"] == message)
            .collect()
    }
}

/// Installs the kit's real subscriber (JSON, span fields on every line) writing to
/// a buffer, as the process's global one.
fn capture_logs() -> Captured {
    let captured = Captured::default();
    let writer = captured.clone();
    let (subscriber, _) = telemetry::subscriber("kit-test", "test", None, move || writer.clone())
        .expect("a subscriber");
    tracing::subscriber::set_global_default(subscriber)
        .expect("the first subscriber of this test process");
    captured
}

#[tokio::test]
async fn every_request_ends_in_one_access_line_with_its_ids_route_status_and_latency() {
    let logs = capture_logs();
    let app = spawn(Readiness::new());
    let correlation_id = Uuid::now_v7().to_string();
    let res = app
        .client
        .get(format!("{}/items/42", app.address))
        .header("x-request-id", "req-from-the-gateway")
        .header(correlation::HEADER, &correlation_id)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["x-request-id"], "req-from-the-gateway");

    let deadline = Instant::now() + Duration::from_secs(5);
    let lines = loop {
        let lines = logs.lines_with("request finished");
        if !lines.is_empty() || Instant::now() > deadline {
            break lines;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(lines.len(), 1, "one access line per request: {lines:?}");
    let (line, span) = (&lines[0], &lines[0]["span"]);
    assert_eq!(span["method"], "GET", "{line}");
    assert_eq!(line["fields"]["route"], "/items/{id}", "{line}");
    assert_eq!(span["path"], "/items/42", "{line}");
    assert_eq!(span["request_id"], "req-from-the-gateway", "{line}");
    assert_eq!(span["correlation_id"], correlation_id.as_str(), "{line}");
    assert_eq!(line["fields"]["status"], 200, "{line}");
    assert!(line["fields"]["latency_ms"].as_f64().is_some(), "{line}");
}

#[tokio::test]
async fn a_request_without_a_request_id_gets_a_new_one_in_its_answer_and_its_access_line() {
    let logs = capture_logs();
    let app = spawn(Readiness::new());
    let res = app.get("/items/7").await;
    let id = res.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(
        Uuid::parse_str(&id).expect("a UUID").get_version_num(),
        7,
        "{id}"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while logs.lines_with("request finished").is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let lines = logs.lines_with("request finished");
    assert_eq!(lines[0]["span"]["request_id"], id.as_str(), "{lines:?}");
}

#[tokio::test]
async fn health_checks_readiness_probes_and_scrapes_are_not_logged_or_counted_as_traffic() {
    let logs = capture_logs();
    // A database nobody listens on: `/ready` answers 503, as it does while a stack starts.
    let closed = comanda_kit::db::pool(&comanda_kit::settings::DatabaseSettings {
        url: "postgres://postgres@127.0.0.1:1/x".to_owned().into(),
        pool_size: 1,
    })
    .expect("pool");
    let app = spawn(Readiness::new().with_database(closed));
    for (path, status) in [("/health", 200), ("/ready", 503), ("/metrics", 200)] {
        assert_eq!(app.get(path).await.status().as_u16(), status, "{path}");
    }
    // Real traffic after the probes: its line is written only after theirs would have been.
    assert_eq!(app.get("/items/1").await.status().as_u16(), 200);
    let deadline = Instant::now() + Duration::from_secs(5);
    while logs.lines_with("request finished").is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let logged: Vec<Value> = logs
        .lines_with("request finished")
        .iter()
        .map(|line| line["span"]["path"].clone())
        .collect();
    assert_eq!(
        logged,
        ["/items/1"],
        "only real traffic is an INFO access line"
    );

    let scrape = app
        .get("/metrics")
        .await
        .text()
        .await
        .expect("metrics text");
    let counted: Vec<&str> = scrape
        .lines()
        .filter(|line| line.starts_with("http_request"))
        .collect();
    assert!(
        counted
            .iter()
            .any(|line| line.contains(r#"route="/items/{id}""#)),
        "real traffic is counted: {counted:#?}"
    );
    for probe in ["/health", "/ready", "/metrics"] {
        let route = format!("route=\"{probe}\"");
        assert!(
            !counted.iter().any(|line| line.contains(&route)),
            "{probe} is counted as traffic: {counted:#?}"
        );
    }
}
