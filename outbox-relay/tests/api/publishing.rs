use comanda_testkit::eventually;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

use comanda_outbox::relay::{Relay, RelayConfig, Source};

use crate::helpers::{
    create_topic, read_topic, shared_brokers, unique_topic, RelayProcess, SourceDb,
};

#[tokio::test]
async fn every_row_is_published_in_key_order_with_id_type_correlation_and_traceparent_headers() {
    let db = SourceDb::new().await;
    let brokers = shared_brokers();
    let topic = unique_topic("publish");
    create_topic(&brokers, &topic).await;
    db.insert_events(&topic, 300, 7).await;
    let mut config = RelayConfig::new("test", &db.url, &brokers);
    config.batch_size = 64;
    let mut relay = Relay::connect(config).await.expect("relay connects");
    assert!(
        relay.try_lead().await.expect("lock query"),
        "a lone relay leads"
    );

    let published = relay.drain().await.expect("drains");

    assert_eq!(published, 300);
    assert_eq!(db.unpublished().await, 0);
    let records = read_topic(&brokers, &topic, 300, Duration::from_secs(60)).await;
    assert_eq!(records.len(), 300, "each row exactly once on a clean run");
    let mut last_seq: HashMap<String, i64> = HashMap::new();
    let mut partitions: HashMap<String, HashSet<i32>> = HashMap::new();
    for record in &records {
        let seq = record.seq();
        let previous = last_seq.insert(record.key.clone(), seq);
        assert!(
            previous.is_none_or(|p| p < seq),
            "key {} went {previous:?} → {seq}",
            record.key
        );
        partitions
            .entry(record.key.clone())
            .or_default()
            .insert(record.partition);
        assert_eq!(record.key, record.payload["aggregate_id"]);
        assert_eq!(record.headers["id"], record.event_id());
        assert_eq!(record.headers["type"], "test.happened");
        let correlation = record.payload["correlation_id"]
            .as_str()
            .expect("correlation id");
        assert_eq!(record.headers["correlation_id"], correlation);
        let trace_id = correlation.replace('-', "");
        assert!(
            record.headers["traceparent"].starts_with(&format!("00-{trace_id}-")),
            "traceparent {}",
            record.headers["traceparent"]
        );
    }
    assert_eq!(last_seq.len(), 7);
    assert!(
        partitions.values().all(|p| p.len() == 1),
        "one partition per key"
    );
}

#[tokio::test]
async fn a_running_relay_publishes_a_committed_row_on_notify_without_waiting_for_its_poll() {
    let db = SourceDb::new().await;
    let brokers = shared_brokers();
    let topic = unique_topic("notify");
    create_topic(&brokers, &topic).await;
    // A one-minute fallback poll: only the NOTIFY can explain a prompt publish.
    let _relay = RelayProcess::spawn(
        &db.url,
        &brokers,
        "relay-notify",
        &[("COMANDA__RELAY__POLL_INTERVAL_MS", "60000")],
    );
    eventually(Duration::from_secs(20), "the relay leads", || async {
        db.leader().await.as_deref() == Some("relay-notify")
    })
    .await;
    // Let the relay finish its first (empty) batch and go to sleep on the channel.
    tokio::time::sleep(Duration::from_millis(500)).await;

    db.insert_events(&topic, 1, 1).await;

    eventually(Duration::from_secs(5), "the row is published", || async {
        db.published().await == 1
    })
    .await;
}

#[tokio::test]
async fn retention_deletes_old_published_rows_and_old_processed_messages_but_no_unpublished_row() {
    let db = SourceDb::new().await;
    db.insert_events("t", 6, 1).await;
    db.client
        .batch_execute(
            "UPDATE outbox SET published_at = now() - interval '10 days' WHERE id <= 2; \
             UPDATE outbox SET published_at = now() WHERE id IN (3, 4); \
             UPDATE outbox SET created_at = now() - interval '10 days' WHERE id = 5; \
             INSERT INTO processed_messages (consumer, event_id, topic, processed_at) VALUES \
               ('c', gen_random_uuid(), 't', now() - interval '40 days'), \
               ('c', gen_random_uuid(), 't', now());",
        )
        .await
        .expect("setup");
    let source = Source::connect(&db.url, "retention-test", false)
        .await
        .expect("connects");

    let deleted = source
        .apply_retention(
            Duration::from_secs(7 * 24 * 3600),
            Duration::from_secs(30 * 24 * 3600),
        )
        .await
        .expect("retention runs");

    assert_eq!(deleted, (2, 1));
    assert_eq!(db.count("SELECT count(*) FROM outbox").await, 4);
    assert_eq!(
        db.unpublished().await,
        2,
        "unpublished rows are never deleted, however old"
    );
    assert_eq!(db.count("SELECT count(*) FROM processed_messages").await, 1);
}
