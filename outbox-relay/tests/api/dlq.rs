use std::time::Duration;

use chrono::Utc;
use comanda_kit::settings::KafkaSettings;
use comanda_outbox::dead_letters::{self, Selection};
use comanda_outbox::inbox::dlq;
use comanda_outbox::topics;
use comanda_testkit::eventually;
use outbox_relay::settings::{Settings, DEFAULTS};
use outbox_relay::startup::Application;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;

use crate::helpers::{create_topic, shared_brokers, SourceDb};

/// Appends a dead letter from `source` as an inbox writes it, dated `minutes_ago`.
async fn dead_letter(brokers: &str, dlq_topic: &str, source: &str, minutes_ago: i64) {
    let producer: FutureProducer = comanda_outbox::kafka::producer_config(brokers)
        .create()
        .expect("producer");
    let headers = OwnedHeaders::new()
        .insert(Header {
            key: "type",
            value: Some("test.happened"),
        })
        .insert(Header {
            key: dlq::HEADER_SOURCE_TOPIC,
            value: Some(source),
        })
        .insert(Header {
            key: dlq::HEADER_SOURCE_PARTITION,
            value: Some("0"),
        })
        .insert(Header {
            key: dlq::HEADER_SOURCE_OFFSET,
            value: Some("0"),
        })
        .insert(Header {
            key: dlq::HEADER_ERROR,
            value: Some("permanent failure: test"),
        })
        .insert(Header {
            key: dlq::HEADER_CONSUMER,
            value: Some("tests"),
        });
    let at = (Utc::now() - chrono::Duration::minutes(minutes_ago)).timestamp_millis();
    producer
        .send(
            FutureRecord::to(dlq_topic)
                .key("agg")
                .payload("{}")
                .timestamp(at)
                .headers(headers),
            Timeout::After(Duration::from_secs(10)),
        )
        .await
        .expect("broker acks");
}

/// The value of the sample `name{topic="<topic>"}` on `/metrics`, if present.
async fn gauge(base: &str, name: &str, topic: &str) -> Option<f64> {
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let prefix = format!("{name}{{topic=\"{topic}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|value| value.parse().ok())
}

#[tokio::test]
async fn the_relay_reports_the_dlqs_pending_entries_and_the_oldest_ones_age_until_they_are_replayed(
) {
    let db = SourceDb::new().await;
    let brokers = shared_brokers();
    let prefix = format!("test.{}.", uuid::Uuid::new_v4().simple());
    let dlq_topic = format!("{prefix}{}", topics::DLQ);
    let source = format!("{prefix}source");
    create_topic(&brokers, &dlq_topic).await;
    create_topic(&brokers, &source).await;
    dead_letter(&brokers, &dlq_topic, &source, 60).await;
    dead_letter(&brokers, &dlq_topic, &source, 10).await;

    let mut settings: Settings = comanda_kit::settings::load(DEFAULTS).expect("defaults load");
    settings.http.port = 0;
    settings.kafka = KafkaSettings::new(brokers.clone());
    settings.kafka.topic_prefix = prefix.clone();
    settings.relay.dlq_watch_interval_ms = 100;
    settings.sources.clear();
    settings.sources.insert(
        "dlq".into(),
        outbox_relay::settings::SourceSettings {
            url: db.url.clone().into(),
            sasl_username: String::new(),
            sasl_password: None,
        },
    );
    let app = Application::build(settings).await.expect("relay builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    let stop = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn(app.run_until_stopped(stop.clone().cancelled_owned()));

    eventually(
        Duration::from_secs(20),
        "two entries are reported",
        || async { gauge(&base, "dlq_entries", &dlq_topic).await == Some(2.0) },
    )
    .await;
    let age = gauge(&base, "dlq_oldest_entry_age_seconds", &dlq_topic)
        .await
        .expect("age reported");
    assert!((3600.0..3700.0).contains(&age), "oldest age {age}");

    // Replaying the older entry leaves the younger one as the oldest pending.
    let ledger = dead_letters::read(&brokers, &dlq_topic)
        .await
        .expect("reads");
    let oldest = ledger.pending().next().expect("pending").id;
    let entries = dead_letters::select(&ledger, &Selection::One(oldest), false).expect("selects");
    dead_letters::replay(&brokers, &dlq_topic, &entries)
        .await
        .expect("replays");
    eventually(Duration::from_secs(20), "one entry is left", || async {
        gauge(&base, "dlq_entries", &dlq_topic).await == Some(1.0)
    })
    .await;
    let age = gauge(&base, "dlq_oldest_entry_age_seconds", &dlq_topic)
        .await
        .expect("age reported");
    assert!((600.0..700.0).contains(&age), "oldest age {age}");

    let ledger = dead_letters::read(&brokers, &dlq_topic)
        .await
        .expect("reads");
    let entries = dead_letters::select(&ledger, &Selection::All { event_type: None }, false)
        .expect("selects");
    dead_letters::replay(&brokers, &dlq_topic, &entries)
        .await
        .expect("replays");
    eventually(Duration::from_secs(20), "none is left", || async {
        gauge(&base, "dlq_entries", &dlq_topic).await == Some(0.0)
            && gauge(&base, "dlq_oldest_entry_age_seconds", &dlq_topic).await == Some(0.0)
    })
    .await;

    stop.cancel();
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("the relay stops within 10 s of shutdown")
        .expect("joins")
        .expect("stops cleanly");
}
