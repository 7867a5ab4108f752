use comanda_testkit::eventually;
use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use comanda_outbox::{Envelope, Handler, HandlerError, Inbox, Outcome};
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::helpers::{
    create_topic, read_topic, shared_brokers, unique_topic, RelayProcess, SourceDb,
};

/// The consumer's effect: one `effects` row per application of an event.
struct CountEffect;

#[async_trait]
impl Handler for CountEffect {
    async fn handle(
        &self,
        event: &Envelope,
        conn: &mut AsyncPgConnection,
    ) -> Result<(), HandlerError> {
        diesel::sql_query(format!(
            "INSERT INTO effects (event_id) VALUES ('{}')",
            event.id
        ))
        .execute(conn)
        .await?;
        Ok(())
    }
}

#[tokio::test]
async fn a_relay_killed_mid_batch_loses_no_event_and_the_consumer_applies_each_event_once() {
    const EVENTS: i64 = 20_000;
    let source = SourceDb::new().await;
    let brokers = shared_brokers();
    let topic = unique_topic("crash");
    create_topic(&brokers, &topic).await;
    source.insert_events(&topic, EVENTS, 50).await;

    let mut relay = RelayProcess::spawn(
        &source.url,
        &brokers,
        "relay-crash",
        &[("COMANDA__RELAY__BATCH_SIZE", "50")],
    );
    eventually(
        Duration::from_secs(30),
        "publishing is under way",
        || async { source.published().await > 0 },
    )
    .await;
    relay.kill(); // SIGKILL: no flush, no goodbye.
    let at_kill = source.published().await;
    assert!(
        at_kill < EVENTS,
        "the relay must die mid-stream (published {at_kill})"
    );

    let _restarted = RelayProcess::spawn(&source.url, &brokers, "relay-crash-2", &[]);
    eventually(
        Duration::from_secs(120),
        "every row is published",
        || async { source.unpublished().await == 0 },
    )
    .await;

    let on_topic = read_topic(&brokers, &topic, EVENTS as usize, Duration::from_secs(120)).await;
    let distinct: HashSet<String> = on_topic.iter().map(|r| r.event_id()).collect();
    assert_eq!(distinct.len() as i64, EVENTS, "no event lost");

    // Consume everything, duplicates included, and count the effects.
    let consumer_db = SourceDb::new().await;
    consumer_db
        .client
        .batch_execute("CREATE TABLE effects (event_id UUID NOT NULL)")
        .await
        .expect("effects table");
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(consumer_db.url.clone());
    let pool = Pool::builder(manager).max_size(2).build().expect("pool");
    let group = format!("crash-consumer-{}", uuid::Uuid::new_v4().simple());
    let inbox = Inbox::builder(&group, &brokers)
        .handle(&topic, CountEffect)
        .build(pool)
        .await
        .expect("inbox");
    let (mut processed, mut duplicates) = (0usize, 0usize);
    while processed + duplicates < on_topic.len() {
        match inbox
            .poll_once(Duration::from_secs(10))
            .await
            .expect("polls")
        {
            Some(Outcome::Processed) => processed += 1,
            Some(Outcome::Duplicate) => duplicates += 1,
            Some(Outcome::DeadLettered) => panic!("no message here is poison"),
            None => panic!(
                "consumer starved after {processed} + {duplicates} of {}",
                on_topic.len()
            ),
        }
    }

    eprintln!(
        "killed at {at_kill}/{EVENTS}; topic holds {} records ({} duplicates)",
        on_topic.len(),
        on_topic.len() - distinct.len()
    );
    assert_eq!(processed as i64, EVENTS);
    assert_eq!(duplicates, on_topic.len() - distinct.len());
    assert_eq!(
        consumer_db.count("SELECT count(*) FROM effects").await,
        EVENTS
    );
    assert_eq!(
        consumer_db
            .count("SELECT count(DISTINCT event_id) FROM effects")
            .await,
        EVENTS
    );
}
