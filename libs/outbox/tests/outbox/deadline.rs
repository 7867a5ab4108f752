//! Saga deadlines: fired when due, once, whichever worker runs them, and never lost
//! when a worker dies mid-fire.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use comanda_kit::stalls::Stalls;
use comanda_outbox::deadline::{self, DeadlineHandler, DeadlineWorker, Due, Next};
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::helpers::TestDb;

const KIND: &str = "test.step";

/// Records one `effects` row per fire (note = the worker's name), then answers `next`.
struct Record {
    worker: &'static str,
    next: fn(&Due) -> Next,
}

#[async_trait]
impl DeadlineHandler for Record {
    async fn fire(&self, due: &Due, conn: &mut AsyncPgConnection) -> anyhow::Result<Next> {
        effect(conn, due, self.worker).await?;
        Ok((self.next)(due))
    }
}

/// Records its effect, says so, then never returns: a worker that dies mid-fire.
struct Hang {
    started: Arc<Notify>,
}

#[async_trait]
impl DeadlineHandler for Hang {
    async fn fire(&self, due: &Due, conn: &mut AsyncPgConnection) -> anyhow::Result<Next> {
        effect(conn, due, "hung").await?;
        self.started.notify_one();
        std::future::pending().await
    }
}

/// Records its effect, then fails: the whole fire must roll back.
struct Fail;

#[async_trait]
impl DeadlineHandler for Fail {
    async fn fire(&self, due: &Due, conn: &mut AsyncPgConnection) -> anyhow::Result<Next> {
        effect(conn, due, "failed").await?;
        anyhow::bail!("the other service said no")
    }
}

async fn effect(conn: &mut AsyncPgConnection, due: &Due, note: &str) -> anyhow::Result<()> {
    diesel::sql_query(format!(
        "INSERT INTO effects (event_id, note) VALUES ('{}', '{note}')",
        due.aggregate_id
    ))
    .execute(conn)
    .await?;
    Ok(())
}

fn done(_: &Due) -> Next {
    Next::Done
}

fn in_an_hour(_: &Due) -> Next {
    Next::Retry {
        at: Utc::now() + chrono::Duration::hours(1),
    }
}

/// A pool of its own on `db`: another service instance.
fn instance_pool(db: &TestDb) -> Pool<AsyncPgConnection> {
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(db.url.clone());
    Pool::builder(manager)
        .max_size(2)
        .build()
        .expect("pool builds")
}

/// Schedules `n` deadlines of [`KIND`] due `offset` from now; returns their ids.
async fn schedule(db: &TestDb, n: usize, offset: chrono::Duration) -> Vec<Uuid> {
    let mut conn = db.connect().await;
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        let id = Uuid::now_v7();
        deadline::schedule(&mut conn, KIND, id, Utc::now() + offset)
            .await
            .expect("schedules");
        ids.push(id);
    }
    ids
}

fn past() -> chrono::Duration {
    chrono::Duration::seconds(-1)
}

#[tokio::test]
async fn a_deadline_fires_once_when_due_and_never_before() {
    let db = TestDb::new().await;
    let later = schedule(&db, 1, chrono::Duration::hours(1)).await[0];
    let due = schedule(&db, 1, past()).await[0];
    let worker = DeadlineWorker::builder(db.pool.clone())
        .handle(
            KIND,
            Record {
                worker: "a",
                next: done,
            },
        )
        .build();

    assert_eq!(worker.fire_due().await.expect("fires"), 1);
    assert_eq!(worker.fire_due().await.expect("fires"), 0);

    let fired = format!("SELECT count(*) AS n FROM effects WHERE event_id = '{due}'");
    assert_eq!(db.count(&fired).await, 1);
    assert_eq!(db.count("SELECT count(*) AS n FROM effects").await, 1);
    let left = format!("SELECT count(*) AS n FROM saga_deadlines WHERE aggregate_id = '{later}'");
    assert_eq!(db.count(&left).await, 1, "the later deadline waits");
    assert_eq!(
        db.count("SELECT count(*) AS n FROM saga_deadlines").await,
        1
    );
}

#[tokio::test]
async fn a_retried_deadline_counts_the_attempt_and_waits_until_its_new_time() {
    let db = TestDb::new().await;
    let id = schedule(&db, 1, past()).await[0];
    let worker = DeadlineWorker::builder(db.pool.clone())
        .handle(
            KIND,
            Record {
                worker: "a",
                next: in_an_hour,
            },
        )
        .build();

    assert_eq!(worker.fire_due().await.expect("fires"), 1);
    assert_eq!(worker.fire_due().await.expect("fires"), 0);

    let waiting = format!(
        "SELECT count(*) AS n FROM saga_deadlines WHERE aggregate_id = '{id}' \
         AND attempts = 1 AND due_at > now() + interval '59 minutes'"
    );
    assert_eq!(db.count(&waiting).await, 1);
    assert_eq!(db.count("SELECT count(*) AS n FROM effects").await, 1);
}

#[tokio::test]
async fn a_cleared_deadline_never_fires_and_kinds_without_a_handler_are_left_alone() {
    let db = TestDb::new().await;
    let ids = schedule(&db, 2, past()).await;
    let mut conn = db.connect().await;
    assert!(deadline::clear(&mut conn, KIND, ids[0])
        .await
        .expect("clears"));
    assert!(!deadline::clear(&mut conn, KIND, ids[0])
        .await
        .expect("clears"));
    deadline::schedule(&mut conn, "other.step", ids[1], Utc::now() + past())
        .await
        .expect("schedules");
    let worker = DeadlineWorker::builder(db.pool.clone())
        .handle(
            KIND,
            Record {
                worker: "a",
                next: done,
            },
        )
        .build();

    assert_eq!(worker.fire_due().await.expect("fires"), 1);

    let fired = format!(
        "SELECT count(*) AS n FROM effects WHERE event_id = '{}'",
        ids[1]
    );
    assert_eq!(db.count(&fired).await, 1);
    let other = "SELECT count(*) AS n FROM saga_deadlines WHERE kind = 'other.step'";
    assert_eq!(db.count(other).await, 1, "another service's kind stays");
}

#[tokio::test]
async fn two_instances_firing_at_once_fire_each_due_deadline_exactly_once() {
    let db = TestDb::new().await;
    schedule(&db, 300, past()).await;
    let worker = |name: &'static str| {
        DeadlineWorker::builder(instance_pool(&db))
            .handle(
                KIND,
                Record {
                    worker: name,
                    next: done,
                },
            )
            .batch(7)
            .build()
    };
    let (a, b) = (worker("a"), worker("b"));
    let drain = |w: DeadlineWorker| async move {
        let mut total = 0;
        loop {
            match w.fire_due().await.expect("fires") {
                0 => return total,
                n => total += n,
            }
        }
    };

    let (fired_a, fired_b) = tokio::join!(tokio::spawn(drain(a)), tokio::spawn(drain(b)));
    let (fired_a, fired_b) = (fired_a.expect("a joins"), fired_b.expect("b joins"));

    assert_eq!(fired_a + fired_b, 300);
    assert!(
        fired_a > 0 && fired_b > 0,
        "both fired: {fired_a} + {fired_b}"
    );
    assert_eq!(db.count("SELECT count(*) AS n FROM effects").await, 300);
    assert_eq!(
        db.count("SELECT count(DISTINCT event_id) AS n FROM effects")
            .await,
        300
    );
    assert_eq!(
        db.count("SELECT count(*) AS n FROM saga_deadlines").await,
        0
    );
}

#[tokio::test]
async fn a_deadline_whose_worker_dies_mid_fire_is_fired_once_by_the_next_instance() {
    let db = TestDb::new().await;
    let id = schedule(&db, 1, past()).await[0];
    let started = Arc::new(Notify::new());
    let dying = DeadlineWorker::builder(instance_pool(&db))
        .handle(
            KIND,
            Hang {
                started: started.clone(),
            },
        )
        .build();
    let next = DeadlineWorker::builder(instance_pool(&db))
        .handle(
            KIND,
            Record {
                worker: "next",
                next: done,
            },
        )
        .build();
    let firing = tokio::spawn(async move {
        let _ = dying.fire_due().await;
    });
    started.notified().await;

    // While the first instance holds the deadline, the other one skips it.
    assert_eq!(next.fire_due().await.expect("fires"), 0);
    // The first instance dies: its task, pool and connections are gone, and
    // Postgres rolls its transaction back.
    firing.abort();
    let _ = firing.await;
    let mut fired = 0;
    for _ in 0..100 {
        fired += next.fire_due().await.expect("fires");
        if fired > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(fired, 1);
    assert_eq!(next.fire_due().await.expect("fires"), 0);

    assert_eq!(db.count("SELECT count(*) AS n FROM effects").await, 1);
    let by_next =
        format!("SELECT count(*) AS n FROM effects WHERE event_id = '{id}' AND note = 'next'");
    assert_eq!(db.count(&by_next).await, 1);
    assert_eq!(
        db.count("SELECT count(*) AS n FROM saga_deadlines").await,
        0
    );
}

#[tokio::test]
async fn a_failing_handler_rolls_its_fire_back_keeps_the_deadline_and_posts_a_stall() {
    let db = TestDb::new().await;
    let id = schedule(&db, 1, past()).await[0];
    let stalls = Stalls::new();
    let worker = DeadlineWorker::builder(db.pool.clone())
        .handle(KIND, Fail)
        .poll_interval(Duration::from_millis(50))
        .stalls(stalls.clone())
        .build();

    assert_eq!(worker.fire_due().await.expect("the database is fine"), 0);
    assert_eq!(db.count("SELECT count(*) AS n FROM effects").await, 0);
    let kept = format!(
        "SELECT count(*) AS n FROM saga_deadlines WHERE aggregate_id = '{id}' AND attempts = 0 \
         AND failures = 1 AND last_error LIKE '%said no%' AND due_at > now()"
    );
    assert_eq!(db.count(&kept).await, 1);

    let stop = CancellationToken::new();
    let running = tokio::spawn({
        let stop = stop.clone();
        async move { worker.run(stop.cancelled_owned()).await }
    });
    wait_until("the worker posts a stall", || {
        stalls.is_stalled("deadlines")
    })
    .await;
    let report = stalls.report();
    assert!(report[0].1.contains("said no"), "{report:?}");
    stop.cancel();
    running.await.expect("stops");
}

#[tokio::test]
async fn a_deadline_overdue_longer_than_allowed_is_a_stall_until_it_fires() {
    let db = TestDb::new().await;
    let mut conn = db.connect().await;
    let id = Uuid::now_v7();
    deadline::schedule(
        &mut conn,
        KIND,
        id,
        Utc::now() - chrono::Duration::minutes(5),
    )
    .await
    .expect("schedules");
    // Another instance holds the deadline and does not get on with it.
    let mut holder = db.connect().await;
    diesel::sql_query("BEGIN")
        .execute(&mut holder)
        .await
        .expect("begins");
    diesel::sql_query("SELECT 1 FROM saga_deadlines FOR UPDATE")
        .execute(&mut holder)
        .await
        .expect("locks");
    let stalls = Stalls::new();
    let worker = DeadlineWorker::builder(db.pool.clone())
        .handle(
            KIND,
            Record {
                worker: "a",
                next: done,
            },
        )
        .poll_interval(Duration::from_millis(50))
        .overdue_after(Duration::from_secs(30))
        .stalls(stalls.clone())
        .build();
    let stop = CancellationToken::new();
    let running = tokio::spawn({
        let stop = stop.clone();
        async move { worker.run(stop.cancelled_owned()).await }
    });

    wait_until("the overdue deadline is a stall", || {
        stalls.is_stalled("deadlines")
    })
    .await;
    assert!(
        stalls.report()[0].1.contains("overdue"),
        "{:?}",
        stalls.report()
    );
    drop(holder);
    wait_until("the deadline fires and the stall ends", || {
        !stalls.is_stalled("deadlines")
    })
    .await;
    stop.cancel();
    running.await.expect("stops");
    assert_eq!(db.count("SELECT count(*) AS n FROM effects").await, 1);
    assert_eq!(
        db.count("SELECT count(*) AS n FROM saga_deadlines").await,
        0
    );
}

/// Polls `check` every 20 ms for up to 30 s.
async fn wait_until(what: &str, check: impl Fn() -> bool) {
    for _ in 0..1500 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting until {what}");
}

#[tokio::test]
async fn scheduling_again_moves_the_deadline_and_starts_its_count_over() {
    let db = TestDb::new().await;
    let id = schedule(&db, 1, past()).await[0];
    let worker = DeadlineWorker::builder(db.pool.clone())
        .handle(
            KIND,
            Record {
                worker: "a",
                next: in_an_hour,
            },
        )
        .build();
    worker.fire_due().await.expect("fires");
    let mut conn = AsyncPgConnection::establish(&db.url)
        .await
        .expect("connects");
    deadline::schedule_with_data(
        &mut conn,
        KIND,
        id,
        Utc::now() + past(),
        &serde_json::json!({"again": true}),
    )
    .await
    .expect("schedules");

    let again = format!(
        "SELECT count(*) AS n FROM saga_deadlines WHERE aggregate_id = '{id}' \
         AND attempts = 0 AND data->>'again' = 'true' AND due_at < now()"
    );
    assert_eq!(db.count(&again).await, 1);
}

#[tokio::test]
async fn a_read_only_database_is_a_stall_and_its_deadlines_fire_once_it_is_writable() {
    let db = TestDb::new().await;
    let id = schedule(&db, 1, past()).await[0];
    let stalls = Stalls::new();
    let worker = DeadlineWorker::builder(db.pool.clone())
        .handle(
            KIND,
            Record {
                worker: "a",
                next: done,
            },
        )
        .poll_interval(Duration::from_millis(50))
        .stalls(stalls.clone())
        .build();
    db.set_read_only(true).await;
    let stop = CancellationToken::new();
    let running = tokio::spawn({
        let stop = stop.clone();
        async move { worker.run(stop.cancelled_owned()).await }
    });

    wait_until("the worker posts a stall", || {
        stalls.is_stalled("deadlines")
    })
    .await;
    assert!(
        stalls.report()[0].1.contains("cannot fire"),
        "{:?}",
        stalls.report()
    );
    db.set_read_only(false).await;
    wait_until("the deadline fires and the stall ends", || {
        !stalls.is_stalled("deadlines")
    })
    .await;
    stop.cancel();
    running.await.expect("stops");
    let fired = format!("SELECT count(*) AS n FROM effects WHERE event_id = '{id}'");
    assert_eq!(db.count(&fired).await, 1);
    assert_eq!(
        db.count("SELECT count(*) AS n FROM saga_deadlines").await,
        0
    );
}
