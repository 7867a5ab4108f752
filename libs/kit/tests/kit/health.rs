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
