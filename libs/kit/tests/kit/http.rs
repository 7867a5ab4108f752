//! Middleware and error mapping every service inherits.

use comanda_kit::correlation::HEADER;
use comanda_kit::health::Readiness;
use comanda_kit::problem::PROBLEM_JSON;
use comanda_kit::testing::TestApp;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::spawn;

/// POSTs `body` to the probe route `/echo` with `content_type` and optional correlation id.
async fn post_echo(
    app: &TestApp,
    content_type: &str,
    body: impl Into<String>,
    correlation_id: Option<&str>,
) -> reqwest::Response {
    let mut req = app
        .client
        .post(format!("{}/echo", app.address))
        .header("content-type", content_type)
        .body(body.into());
    if let Some(id) = correlation_id {
        req = req.header(HEADER, id);
    }
    req.send().await.expect("request")
}

/// Status and body of a response that must be `application/problem+json`.
async fn problem(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let content_type = res.headers()["content-type"]
        .to_str()
        .ok()
        .map(str::to_owned);
    assert_eq!(content_type.as_deref(), Some(PROBLEM_JSON));
    (status, res.json().await.expect("problem body is JSON"))
}

#[tokio::test]
async fn a_valid_correlation_id_is_echoed_and_given_to_handlers() {
    let app = spawn(Readiness::new());
    let id = Uuid::new_v4().to_string();
    let body = json!({ "name": "soup" }).to_string();
    let res = post_echo(&app, "application/json", body, Some(&id)).await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()[HEADER].to_str().ok(), Some(id.as_str()));
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["correlation_id"], id.as_str());
}

#[tokio::test]
async fn a_clients_own_correlation_id_that_is_no_uuid_is_kept_echoed_and_given_to_handlers() {
    let app = spawn(Readiness::new());
    let body = json!({ "name": "soup" }).to_string();
    let res = post_echo(&app, "application/json", body, Some("req-001")).await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()[HEADER].to_str().ok(), Some("req-001"));
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["correlation_id"], "req-001");
}

#[tokio::test]
async fn a_missing_or_invalid_correlation_id_is_replaced_by_a_new_v7() {
    let app = spawn(Readiness::new());
    let too_long = "x".repeat(129);
    for header in [None, Some("not a token"), Some(too_long.as_str())] {
        let mut req = app.client.get(format!("{}/health", app.address));
        if let Some(value) = header {
            req = req.header(HEADER, value);
        }
        let res = req.send().await.expect("request");
        let echoed = res.headers()[HEADER].to_str().expect("ascii");
        let id = Uuid::parse_str(echoed).expect("a UUID");
        assert_eq!(id.get_version_num(), 7, "{header:?} gave {echoed}");
    }
}

#[tokio::test]
async fn malformed_json_is_a_400_invalid_json_problem() {
    let app = spawn(Readiness::new());
    for body in ["{not json", r#"{"title": "no name field"}"#] {
        let (status, problem) =
            problem(post_echo(&app, "application/json", body, None).await).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(problem["code"], "invalid_json");
        assert_eq!(problem["status"], 400);
    }
}

#[tokio::test]
async fn a_missing_field_is_named_in_the_problem_detail() {
    let app = spawn(Readiness::new());
    let res = post_echo(&app, "application/json", r#"{"title": "x"}"#, None).await;
    let (_, problem) = problem(res).await;
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("name"), "{detail}");
}

#[tokio::test]
async fn a_known_path_answers_an_undeclared_method_with_a_405_problem_naming_the_allowed_ones() {
    let app = spawn(Readiness::new());
    let res = app
        .client
        .request(reqwest::Method::TRACE, format!("{}/menu", app.address))
        .send()
        .await
        .expect("request");
    let allow = res
        .headers()
        .get("allow")
        .map(|v| v.to_str().unwrap_or("").to_owned());
    let (status, problem) = problem(res).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (405, Some("method_not_allowed"))
    );
    let mut allowed: Vec<String> = allow
        .expect("an Allow header")
        .split(',')
        .map(|m| m.trim().to_owned())
        .collect();
    allowed.sort();
    assert_eq!(allowed, ["GET", "PUT"]);
}

#[tokio::test]
async fn an_oversized_body_is_a_413_problem() {
    let app = spawn(Readiness::new());
    let name = "x".repeat(comanda_kit::http::JSON_LIMIT_BYTES + 1);
    let body = json!({ "name": name }).to_string();
    let (status, problem) = problem(post_echo(&app, "application/json", body, None).await).await;
    assert_eq!(status, 413);
    assert_eq!(problem["code"], "payload_too_large");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_415_problem() {
    let app = spawn(Readiness::new());
    let res = post_echo(&app, "text/plain", r#"{"name": "soup"}"#, None).await;
    let (status, problem) = problem(res).await;
    assert_eq!(status, 415);
    assert_eq!(problem["code"], "unsupported_media_type");
}

#[tokio::test]
async fn unparsable_paths_and_queries_are_400_problems() {
    let app = spawn(Readiness::new());
    let (status, body) = problem(app.get("/items/abc").await).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_path")));
    let (status, body) = problem(app.get("/search?limit=many").await).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_query"))
    );
}

#[tokio::test]
async fn an_unknown_route_is_a_404_problem() {
    let app = spawn(Readiness::new());
    let (status, body) = problem(app.get("/no/such/route").await).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "not_found");
}

#[tokio::test]
async fn requests_are_counted_by_route_pattern_in_metrics() {
    let app = spawn(Readiness::new());
    assert_eq!(app.get("/items/42").await.status().as_u16(), 200);
    let metrics = app.get("/metrics").await.text().await.expect("text");
    let line = metrics
        .lines()
        .find(|l| l.starts_with("http_requests_total") && l.contains(r#"route="/items/{id}""#))
        .unwrap_or_else(|| panic!("no counter for /items/{{id}} in:\n{metrics}"));
    assert!(line.contains(r#"status="200""#), "{line}");
    assert!(
        metrics.contains("http_request_duration_seconds_bucket"),
        "{metrics}"
    );
}

#[tokio::test]
async fn the_server_stops_when_its_shutdown_future_completes() {
    let http = comanda_kit::settings::HttpSettings {
        host: "127.0.0.1".to_owned(),
        port: 0,
    };
    let server = comanda_kit::http::Server::bind(&http, Readiness::new(), |_| {}).expect("binds");
    let port = server.port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let url = format!("http://127.0.0.1:{port}/health");
    assert_eq!(
        reqwest::get(&url).await.expect("served").status().as_u16(),
        200
    );

    stop.send(()).expect("server still running");
    let finished = tokio::time::timeout(std::time::Duration::from_secs(5), running).await;
    finished
        .expect("stopped within 5 s")
        .expect("task did not panic")
        .expect("clean stop");
    assert!(
        reqwest::get(&url).await.is_err(),
        "still accepting after stop"
    );
}
