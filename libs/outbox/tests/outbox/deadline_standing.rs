//! How deadlines stand (late, failing), read on every poll of the worker: its cost must
//! not grow with the open deadlines due later, one per unpaid order.

use comanda_outbox::deadline::{self, KindStanding};
use diesel::sql_types::BigInt;
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::helpers::TestDb;

const KIND: &str = "test.step";

/// Inserts `n` deadlines of [`KIND`] due `due` (an SQL expression) in one statement.
async fn open(db: &TestDb, n: usize, due: &str) {
    db.run_sql(&format!(
        "INSERT INTO saga_deadlines (kind, aggregate_id, due_at) \
         SELECT '{KIND}', gen_random_uuid(), {due} FROM generate_series(1, {n})"
    ))
    .await;
}

/// Rows of `saga_deadlines` read so far in the transaction `conn` is in.
async fn rows_read(conn: &mut AsyncPgConnection) -> i64 {
    #[derive(QueryableByName)]
    struct Read {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let read: Read = diesel::sql_query(
        "SELECT (coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0))::int8 AS n \
         FROM pg_stat_xact_user_tables WHERE relname = 'saga_deadlines'",
    )
    .get_result(conn)
    .await
    .expect("reads the statistics");
    read.n
}

#[tokio::test]
async fn looking_for_late_and_failing_deadlines_reads_none_of_those_due_later() {
    let db = TestDb::new().await;
    // 20,000 steps due in an hour, as unpaid orders' payment deadlines; no ANALYZE,
    // as on a database autovacuum has not visited.
    open(&db, 20_000, "now() + interval '1 hour'").await;
    open(&db, 1, "now() - interval '5 seconds'").await;
    db.run_sql(&format!(
        "INSERT INTO saga_deadlines (kind, aggregate_id, due_at, failures, last_error) \
         VALUES ('{KIND}', gen_random_uuid(), now() + interval '1 minute', 2, 'the other side said no')"
    ))
    .await;

    let mut conn = db.connect().await;
    let (standing, read) = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            let standing = deadline::standing(conn).await?;
            Ok((standing, rows_read(conn).await))
        })
        .await
        .expect("reads how deadlines stand");

    assert_eq!(standing.len(), 1, "{standing:?}");
    let KindStanding {
        kind,
        overdue,
        overdue_seconds,
        failing,
        last_error,
    } = &standing[0];
    assert_eq!(
        (kind.as_str(), *overdue, *failing, last_error.as_deref()),
        (KIND, 1, 1, Some("the other side said no"))
    );
    assert!(*overdue_seconds >= 5.0, "{overdue_seconds}");
    assert!(
        read <= 10,
        "reading how deadlines stand read {read} rows of saga_deadlines"
    );
}

#[tokio::test]
async fn more_late_deadlines_than_one_look_reads_are_all_counted() {
    let db = TestDb::new().await;
    open(&db, 250, "now() - interval '1 minute'").await;
    open(&db, 1_000, "now() + interval '1 hour'").await;

    let mut conn = db.connect().await;
    let standing = deadline::standing(&mut conn).await.expect("reads");

    assert_eq!(standing.len(), 1, "{standing:?}");
    assert_eq!((standing[0].overdue, standing[0].failing), (250, 0));
    assert!(standing[0].overdue_seconds >= 60.0, "{standing:?}");
}
