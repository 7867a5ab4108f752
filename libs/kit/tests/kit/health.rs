//! `/health` and `/ready`.

use comanda_kit::db;
use comanda_kit::health::Readiness;
use comanda_kit::settings::DatabaseSettings;
use comanda_kit::testing;
use serde_json::Value;

use crate::helpers::spawn;

/// A database nobody listens on: port 1 refuses connections at once.
const CLOSED_DATABASE: &str = "postgres://postgres@127.0.0.1:1/x";

fn pool(url: &str) -> db::Pool {
    db::pool(&DatabaseSettings {
        url: url.to_owned().into(),
        pool_size: 2,
    })
    .expect("pool")
}

/// Status and JSON body of `GET path` on a kit server with `readiness`.
async fn get_json(readiness: Readiness, path: &str) -> (u16, Value) {
    let res = spawn(readiness).get(path).await;
    let status = res.status().as_u16();
    (status, res.json().await.expect("json body"))
}

#[tokio::test]
async fn health_is_ok_even_when_a_dependency_is_down() {
    let readiness = Readiness::new().with_database(pool(CLOSED_DATABASE));
    let (status, body) = get_json(readiness, "/health").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
}

#[tokio::test]
async fn ready_is_503_naming_the_database_when_it_is_unreachable() {
    let readiness = Readiness::new().with_database(pool(CLOSED_DATABASE));
    let (status, body) = get_json(readiness, "/ready").await;
    assert_eq!((status, body["code"].as_str()), (503, Some("not_ready")));
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(detail.starts_with("database:"), "{detail}");
}

#[tokio::test]
async fn ready_is_200_with_each_check_when_the_database_answers() {
    let url = testing::fresh_database("kit_ready").await;
    let (status, body) = get_json(Readiness::new().with_database(pool(&url)), "/ready").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ready")));
    assert_eq!(body["checks"]["database"], "ok");
}

#[tokio::test]
async fn ready_is_503_naming_kafka_when_no_broker_answers() {
    let (status, body) = get_json(Readiness::new().with_kafka("127.0.0.1:1"), "/ready").await;
    assert_eq!(status, 503);
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(detail.starts_with("kafka:"), "{detail}");
}

#[tokio::test]
async fn ready_does_not_leak_the_database_error_text() {
    // A real server that refuses this role: the driver's message would name it.
    let admin = std::env::var(testing::ADMIN_URL_VAR)
        .unwrap_or_else(|_| testing::DEFAULT_ADMIN_URL.to_owned());
    let hostport = admin
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("admin URL has a host")
        .to_owned();
    let url = format!("postgres://leaky_role_name@{hostport}/leaky_database_name");
    let (status, body) = get_json(Readiness::new().with_database(pool(&url)), "/ready").await;
    assert_eq!(status, 503);
    assert_eq!(body["detail"], "database: unavailable", "{body}");
    let text = body.to_string();
    let port = hostport.rsplit(':').next().unwrap_or_default();
    for secret in [
        "leaky_role_name",
        "leaky_database_name",
        port,
        "role",
        "error",
    ] {
        assert!(!text.contains(secret), "/ready leaks {secret:?}: {text}");
    }
}

#[tokio::test]
async fn ready_does_not_leak_the_broker_error_text() {
    let (status, body) = get_json(Readiness::new().with_kafka("127.0.0.1:1"), "/ready").await;
    assert_eq!(status, 503);
    assert_eq!(body["detail"], "kafka: unavailable", "{body}");
}

/// The value of the counter `name` in a Prometheus text exposition, 0 when absent.
fn counter(exposition: &str, name: &str) -> f64 {
    exposition
        .lines()
        .filter(|line| line.starts_with(name))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn rapid_ready_calls_check_the_broker_at_most_once_a_second() {
    let app = spawn(Readiness::new().with_kafka(testing::kafka_brokers()));
    let started = std::time::Instant::now();
    // A burst of concurrent probes, then a stream of sequential ones.
    let burst = (0..10).map(|_| app.get("/ready"));
    for res in futures::future::join_all(burst).await {
        assert_eq!(res.status().as_u16(), 200);
    }
    for _ in 0..40 {
        assert_eq!(app.get("/ready").await.status().as_u16(), 200);
    }
    let elapsed = started.elapsed();
    let metrics = app
        .get("/metrics")
        .await
        .text()
        .await
        .expect("metrics text");
    let checks = counter(&metrics, "readiness_broker_checks_total");
    let allowed = elapsed.as_secs_f64().floor() + 1.0;
    assert!(
        (1.0..=allowed).contains(&checks),
        "{checks} broker checks for 50 /ready calls in {elapsed:?}"
    );
}
