use comanda_testkit::eventually;
use std::time::{Duration, Instant};

use crate::helpers::{create_topic, shared_brokers, unique_topic, RelayProcess, SourceDb};

#[tokio::test]
async fn of_two_relays_on_one_source_one_publishes_and_the_other_takes_over_when_it_is_killed() {
    let db = SourceDb::new().await;
    let brokers = shared_brokers();
    let topic = unique_topic("leader");
    create_topic(&brokers, &topic).await;
    let mut first = RelayProcess::spawn(&db.url, &brokers, "relay-a", &[]);
    eventually(Duration::from_secs(20), "relay-a leads", || async {
        db.leader().await.as_deref() == Some("relay-a")
    })
    .await;
    let _second = RelayProcess::spawn(&db.url, &brokers, "relay-b", &[]);
    eventually(Duration::from_secs(20), "relay-b is connected", || async {
        db.count("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'relay-b'")
            .await
            == 1
    })
    .await;

    db.insert_events(&topic, 200, 4).await;
    eventually(
        Duration::from_secs(20),
        "200 rows are published",
        || async { db.published().await == 200 },
    )
    .await;
    assert_eq!(
        db.leader().await.as_deref(),
        Some("relay-a"),
        "the standby must not take the lock"
    );

    first.kill();
    let killed = Instant::now();
    eventually(Duration::from_secs(10), "relay-b leads", || async {
        db.leader().await.as_deref() == Some("relay-b")
    })
    .await;
    let takeover = killed.elapsed();
    db.insert_events(&topic, 200, 4).await;
    eventually(
        Duration::from_secs(20),
        "the new rows are published by relay-b",
        || async { db.published().await == 400 },
    )
    .await;
    eprintln!("takeover after SIGKILL: {takeover:?}");
}
