//! Per-key order through the pipelined drain: a row that commits late, below rows
//! already claimed, must still reach its partition before its key's later rows.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use comanda_outbox::relay::{Publisher, Relay, RelayConfig, Source};
use nix::sys::signal::Signal;
use tokio_postgres::{Client, NoTls};

use crate::helpers::{
    create_topic, read_topic, shared_brokers, unique_topic, PrivateBroker, Record, SourceDb,
};

/// Inserts one event of `key` with `data.seq = seq` into `topic`.
const INSERT_ONE: &str = "INSERT INTO outbox (event_id, topic, kafka_key, event_type, correlation_id, payload) \
     SELECT e.id, $1, $2, 'test.happened', e.corr, \
            json_build_object('id', e.id, 'type', 'test.happened', 'version', 1, \
              'source', 'tests', 'aggregate_id', $2::text, 'correlation_id', e.corr, \
              'causation_id', NULL, 'occurred_at', now(), 'data', json_build_object('seq', $3::bigint)) \
     FROM (SELECT gen_random_uuid() AS id, gen_random_uuid() AS corr) AS e";

async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.expect("connects");
    tokio::spawn(connection);
    client
}

/// The `data.seq` of each key's records in the order they were read, duplicates
/// (a row sent again after a failure) left out.
fn sequences(records: &[Record]) -> HashMap<String, Vec<i64>> {
    let mut seen = HashSet::new();
    let mut by_key: HashMap<String, Vec<i64>> = HashMap::new();
    for record in records {
        if seen.insert(record.event_id()) {
            by_key
                .entry(record.key.clone())
                .or_default()
                .push(record.seq());
        }
    }
    by_key
}

/// A source, a broker of the test's own (to pause), a topic on it, and a leading relay
/// with batches of `batch_size` that has published one warm-up row, so its producer is
/// connected before the broker is paused.
struct Paused {
    db: SourceDb,
    broker: PrivateBroker,
    brokers: String,
    topic: String,
    relay: Relay,
}

impl Paused {
    async fn start(purpose: &str, batch_size: i64) -> Self {
        let db = SourceDb::new().await;
        let broker = PrivateBroker::start();
        let brokers = broker.brokers();
        let topic = unique_topic(purpose);
        create_topic(&brokers, &topic).await;
        let mut config = RelayConfig::new("test", &db.url, &brokers);
        config.batch_size = batch_size;
        let mut relay = Relay::connect(config).await.expect("relay connects");
        assert!(relay.try_lead().await.expect("lock query"));
        db.client
            .execute(INSERT_ONE, &[&topic, &"warm-up", &0_i64])
            .await
            .expect("insert");
        assert_eq!(relay.drain().await.expect("drains"), 1);
        Self {
            db,
            broker,
            brokers,
            topic,
            relay,
        }
    }
}

/// The interleaving: L (key X) takes a low id and stays open; rows of key Y
/// commit and are claimed while a batch is in flight (the broker is paused); then L
/// commits, and H (X's next event) commits above the claim cursor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_committed_late_below_the_claim_cursor_still_precedes_its_keys_next_row() {
    let Paused {
        db,
        mut broker,
        brokers,
        topic,
        mut relay,
    } = Paused::start("late", 1).await;

    let mut late = connect(&db.url).await;
    let l = late.transaction().await.expect("begin");
    l.execute(INSERT_ONE, &[&topic, &"x", &1_i64])
        .await
        .expect("X's first row");
    for seq in 1..=5_i64 {
        db.client
            .execute(INSERT_ONE, &[&topic, &"y", &seq])
            .await
            .expect("Y's rows");
    }
    broker.signal(Signal::SIGSTOP);
    let draining = tokio::spawn(async move {
        let first = relay.drain().await.expect("drains");
        (relay, first)
    });
    // The drain has claimed Y's first rows and waits for the paused broker.
    tokio::time::sleep(Duration::from_millis(500)).await;
    l.commit().await.expect("L commits");
    db.client
        .execute(INSERT_ONE, &[&topic, &"x", &2_i64])
        .await
        .expect("X's second row");
    tokio::time::sleep(Duration::from_millis(200)).await;
    broker.signal(Signal::SIGCONT);
    let (mut relay, first) = draining.await.expect("drain task");
    let second = relay.drain().await.expect("drains again");
    assert_eq!(first + second, 7, "every row published");

    let records = read_topic(&brokers, &topic, 8, Duration::from_secs(60)).await;
    let by_key = sequences(&records);
    assert_eq!(by_key["y"], vec![1, 2, 3, 4, 5]);
    assert_eq!(
        by_key["x"],
        vec![1, 2],
        "X's events reach the partition in commit order"
    );
    broker.kill();
}

/// Many writers, many keys, each key's events written under that key's row lock (as
/// the services write an aggregate's events), while a relay drains with small
/// pipelined batches: every key's events arrive in the order they were committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_and_pipelined_batches_never_invert_a_keys_events() {
    const WRITERS: u64 = 8;
    const PER_WRITER: u64 = 2_500;
    const KEYS: u64 = 200;
    let db = SourceDb::new().await;
    let brokers = shared_brokers();
    let topic = unique_topic("inversions");
    create_topic(&brokers, &topic).await;
    db.client
        .batch_execute(&format!(
            "CREATE TABLE key_seq (key TEXT PRIMARY KEY, seq BIGINT NOT NULL); \
             INSERT INTO key_seq SELECT 'k' || s, 0 FROM generate_series(1, {KEYS}) AS s;"
        ))
        .await
        .expect("key table");

    let done = Arc::new(AtomicBool::new(false));
    let mut config = RelayConfig::new("test", &db.url, &brokers);
    config.batch_size = 50;
    let mut relay = Relay::connect(config).await.expect("relay connects");
    assert!(relay.try_lead().await.expect("lock query"));
    let relaying = tokio::spawn({
        let done = Arc::clone(&done);
        async move {
            let mut published = 0;
            loop {
                let finished = done.load(Ordering::SeqCst);
                let n = relay.drain().await.expect("drains");
                published += n;
                if finished && n == 0 {
                    return published;
                }
                if n == 0 {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        }
    });
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let url = db.url.clone();
        let topic = topic.clone();
        writers.push(tokio::spawn(async move {
            let mut client = connect(&url).await;
            let mut state = 0x9E37_79B9_7F4A_7C15_u64 ^ (writer + 1);
            for _ in 0..PER_WRITER {
                // xorshift: a cheap, seeded spread over the keys.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let key = format!("k{}", state % KEYS + 1);
                let tx = client.transaction().await.expect("begin");
                let seq: i64 = tx
                    .query_one(
                        "UPDATE key_seq SET seq = seq + 1 WHERE key = $1 RETURNING seq",
                        &[&key],
                    )
                    .await
                    .expect("the key's lock and next number")
                    .get(0);
                tx.execute(INSERT_ONE, &[&topic, &key, &seq])
                    .await
                    .expect("the key's event");
                tx.commit().await.expect("commit");
            }
        }));
    }
    for writer in writers {
        writer.await.expect("writer");
    }
    done.store(true, Ordering::SeqCst);
    let total = (WRITERS * PER_WRITER) as usize;
    let published = relaying.await.expect("relay task");
    assert!(published >= total, "published {published} of {total}");

    let records = read_topic(&brokers, &topic, total, Duration::from_secs(120)).await;
    let by_key = sequences(&records);
    let mut inversions = 0;
    let mut events = 0;
    for seqs in by_key.values() {
        events += seqs.len();
        inversions += seqs.windows(2).filter(|w| w[0] > w[1]).count();
    }
    assert_eq!(events, total, "every event arrived");
    assert_eq!(inversions, 0, "events out of commit order within a key");
}

/// A batch stuck on a paused broker fails after the relay's own send timeout, with
/// everything not acked purged at once: only an acked prefix is marked published,
/// and once the broker is back every key's events arrive complete and in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_stuck_past_the_send_timeout_fails_whole_and_is_resent_in_key_order() {
    let Paused {
        db,
        mut broker,
        brokers,
        topic,
        mut relay,
    } = Paused::start("stuck", 50).await;
    db.insert_events(&topic, 200, 7).await;

    // The relay's publisher on its own, so the time measured is the send's alone.
    let source = Source::connect(&db.url, "test-stuck", false)
        .await
        .expect("source connects");
    let rows = source.claim(&[], 200).await.expect("claims");
    let mut publisher = Publisher::new(&brokers, Duration::from_secs(1)).expect("publisher");
    broker.signal(Signal::SIGSTOP);
    let started = std::time::Instant::now();
    let result = publisher.send(&rows).await;
    let waited = started.elapsed();
    assert!(result.failure.is_some(), "a batch on a paused broker fails");
    assert!(
        waited < Duration::from_secs(4),
        "it fails after the send timeout (1 s), not after librdkafka's: {waited:?}"
    );
    assert!(
        result.acked.len() < rows.len(),
        "the stuck rows are not acked"
    );
    source.mark_published(&result.acked).await.expect("marks");
    drop(publisher);
    let unpublished = db.unpublished().await;
    assert!(unpublished > 0, "the stuck batch stays unpublished");
    broker.signal(Signal::SIGCONT);
    let mut left = unpublished;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while left > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "{left} rows never published"
        );
        let _ = relay.drain().await;
        left = db.unpublished().await;
    }

    let records = read_topic(&brokers, &topic, 201, Duration::from_secs(60)).await;
    let by_key = sequences(&records);
    let mut events = 0;
    for (key, seqs) in &by_key {
        events += seqs.len();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "key {key} out of order: {seqs:?}"
        );
    }
    assert_eq!(events, 201, "every event arrived");
    broker.kill();
}
