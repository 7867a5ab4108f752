use comanda_testkit::eventually;
use std::collections::HashSet;
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::helpers::{
    create_topic, read_topic, unique_topic, PrivateBroker, RelayProcess, SourceDb,
};

const OUTAGE: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_paused_broker_grows_the_backlog_and_the_relay_drains_it_by_itself_after_resume() {
    let broker = PrivateBroker::start();
    let db = SourceDb::new().await;
    let topic = unique_topic("pause");
    create_topic(&broker.brokers(), &topic).await;
    let _relay = RelayProcess::spawn(
        &db.url,
        &broker.brokers(),
        "relay-pause",
        &[("COMANDA__RELAY__BATCH_SIZE", "100")],
    );
    db.insert_events(&topic, 100, 5).await;
    eventually(
        Duration::from_secs(30),
        "the first rows are published",
        || async { db.published().await == 100 },
    )
    .await;

    broker.signal(Signal::SIGSTOP);
    db.insert_events(&topic, 500, 5).await;
    tokio::time::sleep(OUTAGE).await;
    let backlog = db.unpublished().await;
    broker.signal(Signal::SIGCONT);

    assert_eq!(backlog, 500, "nothing can be acked by a stopped broker");
    eventually(Duration::from_secs(90), "the backlog drains", || async {
        db.unpublished().await == 0
    })
    .await;
    let records = read_topic(&broker.brokers(), &topic, 600, Duration::from_secs(60)).await;
    let ids: HashSet<String> = records.iter().map(|r| r.event_id()).collect();
    assert_eq!(ids.len(), 600);
}

#[tokio::test]
async fn a_broker_restarted_empty_gets_its_topics_back_and_the_backlog_drains() {
    let mut broker = PrivateBroker::start();
    let db = SourceDb::new().await;
    let topic = unique_topic("restart");
    create_topic(&broker.brokers(), &topic).await;
    let _relay = RelayProcess::spawn(&db.url, &broker.brokers(), "relay-restart", &[]);
    db.insert_events(&topic, 100, 5).await;
    eventually(
        Duration::from_secs(30),
        "the first rows are published",
        || async { db.published().await == 100 },
    )
    .await;

    broker.kill();
    db.insert_events(&topic, 300, 5).await;
    tokio::time::sleep(OUTAGE).await;
    assert_eq!(db.unpublished().await, 300, "the backlog waits in Postgres");
    broker.restart(); // memory storage: no topics, no offsets, no producer state

    eventually(Duration::from_secs(120), "the backlog drains", || async {
        db.unpublished().await == 0
    })
    .await;
    let records = read_topic(&broker.brokers(), &topic, 300, Duration::from_secs(60)).await;
    let on_topic: HashSet<String> = records.iter().map(|r| r.event_id()).collect();
    let rows = db
        .client
        .query("SELECT event_id::text FROM outbox WHERE id > 100", &[])
        .await
        .expect("ids");
    let written: HashSet<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(written.len(), 300);
    assert!(
        written.is_subset(&on_topic),
        "every event written during the outage is on the new broker"
    );
}
