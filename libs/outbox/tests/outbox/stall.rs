//! A consumer whose group was left behind by a member that died without leaving it.
//!
//! The dead member is a real process (this test binary, re-run as
//! [`group_member_until_killed`]) that joins the group, takes every partition and is
//! SIGKILLed: it never sends LeaveGroup, as a crashed service never does. The inbox
//! that replaces it must end up consuming, by itself, whatever the broker's group
//! coordinator makes of the dead member.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use comanda_kit::settings::Assignment;
use comanda_kit::stalls::Stalls;
use comanda_outbox::{Envelope, Handler, HandlerError, Inbox};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::helpers::{brokers, envelope, produce, producer, unique_topic, TestDb};

const MEMBER_GROUP: &str = "COMANDA_TEST_MEMBER_GROUP";
const MEMBER_TOPIC: &str = "COMANDA_TEST_MEMBER_TOPIC";
const MEMBER_INSTANCE: &str = "COMANDA_TEST_MEMBER_INSTANCE";

/// Records one row in `effects` per event.
struct Record(Arc<AtomicUsize>);

#[async_trait]
impl Handler for Record {
    async fn handle(
        &self,
        event: &Envelope,
        conn: &mut AsyncPgConnection,
    ) -> Result<(), HandlerError> {
        AtomicUsize::fetch_add(&self.0, 1, Ordering::SeqCst);
        diesel::sql_query(format!(
            "INSERT INTO effects (event_id, note) VALUES ('{}', 'applied')",
            event.id
        ))
        .execute(conn)
        .await?;
        Ok(())
    }
}

/// Not a test on its own: the process [`a_consumer_whose_group_leader_died_without_leaving_consumes_again_by_itself`]
/// starts and kills. It joins the group named in the environment, consumes one message
/// (so it certainly holds the partitions), says `READY` and waits to be killed.
#[tokio::test]
#[ignore = "a helper process of the stall test, run by it"]
async fn group_member_until_killed() {
    let (Ok(group), Ok(topic)) = (std::env::var(MEMBER_GROUP), std::env::var(MEMBER_TOPIC)) else {
        return;
    };
    let instance = std::env::var(MEMBER_INSTANCE).ok();
    let consumer: StreamConsumer =
        comanda_outbox::kafka::member_config(&brokers(), &group, instance.as_deref())
            .create()
            .expect("consumer");
    consumer.subscribe(&[&topic]).expect("subscribes");
    let message = consumer.recv().await.expect("the warm-up message");
    consumer
        .commit_message(&message, rdkafka::consumer::CommitMode::Sync)
        .expect("commits");
    println!("READY {}", message.offset());
    loop {
        // Keep polling (and so heartbeating) until the SIGKILL.
        let _ = tokio::time::timeout(Duration::from_secs(1), consumer.recv()).await;
    }
}

/// Starts [`group_member_until_killed`] in a child process (the static member
/// `instance`, when given) and waits until it holds the group.
fn start_member(group: &str, topic: &str, instance: Option<&str>) -> Child {
    let mut command = Command::new(std::env::current_exe().expect("test binary"));
    if let Some(instance) = instance {
        command.env(MEMBER_INSTANCE, instance);
    }
    let mut child = command
        .args([
            "stall::group_member_until_killed",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env(MEMBER_GROUP, group)
        .env(MEMBER_TOPIC, topic)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("member process starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let ready = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .any(|line| line.starts_with("READY"))
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !ready.is_finished() {
        assert!(
            std::time::Instant::now() < deadline,
            "the member process did not take the group within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(ready.join().expect("reader"), "the member process exited");
    child
}

/// Sends six events with keys `a`..`f` (so every partition gets one) and returns their ids.
async fn send_one_per_partition(
    producer: &rdkafka::producer::FutureProducer,
    topic: &str,
) -> Vec<uuid::Uuid> {
    let mut sent = Vec::new();
    for key in ["a", "b", "c", "d", "e", "f"] {
        let event = envelope(key, json!({ "key": key }));
        produce(
            producer,
            topic,
            key,
            &serde_json::to_vec(&event).expect("json"),
        )
        .await;
        sent.push(event.id);
    }
    sent
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_whose_group_leader_died_without_leaving_consumes_again_by_itself() {
    let db = TestDb::new().await;
    let topic = unique_topic("stall");
    let group = format!("test-stall-{}", uuid::Uuid::new_v4().simple());
    comanda_outbox::topics::ensure(&brokers(), &[&topic])
        .await
        .expect("topic");
    let producer = producer();
    let warm_up = envelope("warm-up", json!({}));
    let bytes = serde_json::to_vec(&warm_up).expect("json");
    produce(&producer, &topic, "warm-up", &bytes).await;
    let mut member = start_member(&group, &topic, None);

    // The member dies as a crashed service does: no LeaveGroup, no offset commit.
    kill(Pid::from_raw(member.id() as i32), Signal::SIGKILL).expect("SIGKILL");
    member.wait().expect("reaped");

    let applied = Arc::new(AtomicUsize::new(0));
    let stalls = Stalls::new();
    let inbox = Inbox::builder(&group, &brokers())
        .handle(&topic, Record(Arc::clone(&applied)))
        .stalls(stalls.clone())
        .stall_timeout(Duration::from_secs(5))
        .build(db.pool.clone())
        .await
        .expect("inbox builds");
    let token = CancellationToken::new();
    let running = tokio::spawn({
        let token = token.clone();
        async move { inbox.run(token.cancelled_owned()).await }
    });
    // Events for every partition, so whichever partitions the inbox ends up with, it
    // has work, and the group's lag stays until it is done. Traffic keeps coming
    // meanwhile, as it does in a running system: new messages are not progress.
    let mut sent = send_one_per_partition(&producer, &topic).await;
    let first = sent.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let traffic = tokio::spawn({
        let producer = producer.clone();
        let topic = topic.clone();
        let stop = Arc::clone(&stop);
        async move {
            let mut ids = Vec::new();
            let mut n = 0;
            while !AtomicBool::load(&stop, Ordering::SeqCst) && n < 200 {
                let key = format!("later-{n}");
                let event = envelope(&key, json!({ "n": n }));
                let bytes = serde_json::to_vec(&event).expect("json");
                produce(&producer, &topic, &key, &bytes).await;
                ids.push(event.id);
                n += 1;
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            ids
        }
    });

    // The first events are applied while traffic still flows.
    let name = format!("inbox:{group}");
    let mut reported = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(50);
    let first_ids = first
        .iter()
        .map(|id| format!("'{id}'"))
        .collect::<Vec<_>>()
        .join(",");
    let sql = format!(
        "SELECT count(DISTINCT event_id) AS n FROM effects WHERE event_id IN ({first_ids})"
    );
    loop {
        reported.extend(stalls.report());
        let applied = db.count(&sql).await;
        if applied == first.len() as i64 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the inbox applied {applied} of the first {} events within 50 s of steady traffic: \
             the group stays stalled",
            first.len()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    AtomicBool::store(&stop, true, Ordering::SeqCst);
    sent.extend(traffic.await.expect("traffic"));
    let all = "SELECT count(DISTINCT event_id) AS n FROM effects";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while db.count(all).await < sent.len() as i64 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the traffic's events are applied too"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // While it lasted, `/ready`'s board said so.
    assert!(
        reported
            .iter()
            .any(|(worker, reason)| worker == &name && reason.contains("no progress")),
        "the stall was reported while it lasted: {reported:?}"
    );
    // The watchdog's next look sees the progress and takes the stall off the board.
    let cleared_by = tokio::time::Instant::now() + Duration::from_secs(15);
    while stalls.is_stalled(&name) && tokio::time::Instant::now() < cleared_by {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    token.cancel();
    running.await.expect("the inbox stops");
    assert!(
        !stalls.is_stalled(&name),
        "the stall is cleared once the group makes progress: {:?}",
        stalls.report()
    );
}

/// A service restarted after a crash joins as the same static member (its host name
/// by default): it takes the dead process's place, and with it the partitions, at
/// once. The watchdog is kept out of it (a stall timeout longer than the test): on
/// tansu 0.6.0 a dynamic member joining after a SIGKILLed leader gets nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_static_member_takes_its_dead_predecessors_partitions_at_once() {
    replacement_consumes_at_once(Some("host-a"), Assignment::Group).await;
}

/// With [`Assignment::All`] (the local runs and tests on tansu) a restarted service
/// needs no group at all: it reads every partition from the group's committed offsets
/// at once, whatever the dead member left behind in the coordinator.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_consumer_reading_all_partitions_resumes_from_the_committed_offsets_at_once() {
    replacement_consumes_at_once(None, Assignment::All).await;
}

/// A member process (static as `instance`, when given) takes the group, commits the
/// warm-up message and is SIGKILLed; a new inbox with `assignment` (and `instance`)
/// must apply the 6 events sent since within 30 s, without the watchdog, and not
/// the committed warm-up message.
async fn replacement_consumes_at_once(instance: Option<&str>, assignment: Assignment) {
    let db = TestDb::new().await;
    let topic = unique_topic("restart");
    let group = format!("test-restart-{}", uuid::Uuid::new_v4().simple());
    comanda_outbox::topics::ensure(&brokers(), &[&topic])
        .await
        .expect("topic");
    let producer = producer();
    let warm_up = envelope("warm-up", json!({}));
    produce(
        &producer,
        &topic,
        "warm-up",
        &serde_json::to_vec(&warm_up).expect("json"),
    )
    .await;
    let mut member = start_member(&group, &topic, instance);
    kill(Pid::from_raw(member.id() as i32), Signal::SIGKILL).expect("SIGKILL");
    member.wait().expect("reaped");

    let sent = send_one_per_partition(&producer, &topic).await;
    let mut builder = Inbox::builder(&group, &brokers())
        .handle(&topic, Record(Arc::new(AtomicUsize::new(0))))
        .assignment(assignment)
        .stall_timeout(Duration::from_secs(600));
    if let Some(instance) = instance {
        builder = builder.instance_id(instance);
    }
    let inbox = builder.build(db.pool.clone()).await.expect("inbox builds");
    let token = CancellationToken::new();
    let running = tokio::spawn({
        let token = token.clone();
        async move { inbox.run(token.cancelled_owned()).await }
    });
    let ids = sent
        .iter()
        .map(|id| format!("'{id}'"))
        .collect::<Vec<_>>()
        .join(",");
    let sql =
        format!("SELECT count(DISTINCT event_id) AS n FROM effects WHERE event_id IN ({ids})");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let applied = db.count(&sql).await;
        if applied == sent.len() as i64 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the restarted consumer applied {applied} of {} events within 30 s",
            sent.len()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let warm_up_sql = format!(
        "SELECT count(*) AS n FROM effects WHERE event_id = '{}'",
        warm_up.id
    );
    assert_eq!(
        db.count(&warm_up_sql).await,
        0,
        "the message the dead member committed is not read again"
    );
    token.cancel();
    running.await.expect("the inbox stops");
}
