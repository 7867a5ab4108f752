use comanda_testkit::eventually;
use std::time::Duration;

use comanda_kit::settings::KafkaSettings;
use outbox_relay::settings::{Settings, SourceSettings, DEFAULTS};
use outbox_relay::startup::Application;

use crate::helpers::{create_topic, shared_brokers, unique_topic, SourceDb};

#[tokio::test]
async fn the_relay_reports_published_total_backlog_leadership_and_latency_on_metrics() {
    let db = SourceDb::new().await;
    let brokers = shared_brokers();
    let topic = unique_topic("metrics");
    create_topic(&brokers, &topic).await;
    let mut settings: Settings = comanda_kit::settings::load(DEFAULTS).expect("defaults load");
    settings.http.port = 0;
    settings.kafka = KafkaSettings::new(brokers.clone());
    settings.relay.housekeeping_interval_ms = 100;
    settings.sources.clear();
    settings.sources.insert(
        "metrics".into(),
        SourceSettings {
            url: db.url.clone().into(),
            sasl_username: String::new(),
            sasl_password: None,
        },
    );
    let app = Application::build(settings).await.expect("relay builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    let stop = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn(app.run_until_stopped(stop.clone().cancelled_owned()));

    db.insert_events(&topic, 25, 5).await;
    eventually(Duration::from_secs(20), "25 rows are published", || async {
        db.published().await == 25
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await; // one more housekeeping round

    let client = reqwest::Client::new();
    let ready = client
        .get(format!("{base}/ready"))
        .send()
        .await
        .expect("ready answers");
    assert_eq!(ready.status(), 200);
    let checks: serde_json::Value = ready.json().await.expect("ready is JSON");
    assert_eq!(checks["checks"]["source:metrics"], "ok", "{checks}");
    assert_eq!(checks["checks"]["kafka"], "ok", "{checks}");
    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("text");
    for expected in [
        "outbox_relay_published_total{source=\"metrics\"} 25",
        "outbox_relay_leader{source=\"metrics\"} 1",
        "outbox_relay_backlog{source=\"metrics\"} 0",
        "outbox_relay_publish_latency_seconds_count{source=\"metrics\"} 25",
        "outbox_relay_publish_latency_seconds_bucket{source=\"metrics\",le=\"0.005\"}",
        "outbox_relay_oldest_unpublished_age_seconds{source=\"metrics\"} 0",
    ] {
        assert!(
            metrics.contains(expected),
            "missing `{expected}` in:\n{metrics}"
        );
    }

    stop.cancel();
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("the relay stops within 10 s of shutdown")
        .expect("joins")
        .expect("stops cleanly");
}
