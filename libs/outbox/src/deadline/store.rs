//! The `saga_deadlines` table: scheduling, clearing, claiming and settling rows.
//!
//! Scheduling and clearing run in the transactions of every saga step: they are
//! [`Prepared`] (diesel would parse and plan an upsert and a `sql_query` on every call).

use std::time::Duration;

use chrono::{DateTime, Utc};
use comanda_kit::prepared::Prepared;
use diesel::prelude::*;
use diesel::sql_types::{Double, Int8, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::{Due, Next};
use crate::schema::saga_deadlines;

/// Schedules deadline `kind` of `aggregate_id` at `due_at`, in the caller's
/// transaction. Scheduling an existing deadline moves it and starts its count again.
pub async fn schedule(
    conn: &mut AsyncPgConnection,
    kind: &str,
    aggregate_id: Uuid,
    due_at: DateTime<Utc>,
) -> QueryResult<()> {
    upsert(conn, kind, aggregate_id, due_at, None).await
}

/// [`schedule`], keeping `data` for the handler ([`Due::data`]): what it needs to act
/// that the aggregate itself does not keep (e.g. the request to send again).
pub async fn schedule_with_data(
    conn: &mut AsyncPgConnection,
    kind: &str,
    aggregate_id: Uuid,
    due_at: DateTime<Utc>,
    data: &serde_json::Value,
) -> QueryResult<()> {
    upsert(conn, kind, aggregate_id, due_at, Some(data)).await
}

async fn upsert(
    conn: &mut AsyncPgConnection,
    kind: &str,
    aggregate_id: Uuid,
    due_at: DateTime<Utc>,
    data: Option<&serde_json::Value>,
) -> QueryResult<()> {
    use saga_deadlines::dsl as d;
    Prepared(
        diesel::insert_into(saga_deadlines::table)
            .values((
                d::kind.eq(kind),
                d::aggregate_id.eq(aggregate_id),
                d::due_at.eq(due_at),
                d::data.eq(data),
            ))
            .on_conflict((d::kind, d::aggregate_id))
            .do_update()
            .set((
                d::due_at.eq(due_at),
                d::data.eq(data),
                d::attempts.eq(0),
                d::failures.eq(0),
                d::last_error.eq(None::<String>),
                d::updated_at.eq(diesel::dsl::now),
            )),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Clears deadline `kind` of `aggregate_id` in the caller's transaction (the step
/// completed); true when a row was deleted.
///
/// A row a worker is firing at this very moment is skipped rather than waited for
/// (waiting could deadlock: the handler locks the aggregate after the row, the
/// caller holds the aggregate before it). The handler then finds the step complete
/// and deletes the row itself (see the module doc).
pub async fn clear(
    conn: &mut AsyncPgConnection,
    kind: &str,
    aggregate_id: Uuid,
) -> QueryResult<bool> {
    let deleted = Prepared(
        diesel::sql_query(
            "DELETE FROM saga_deadlines WHERE ctid IN ( \
             SELECT ctid FROM saga_deadlines WHERE kind = $1 AND aggregate_id = $2 \
             FOR UPDATE SKIP LOCKED)",
        )
        .bind::<Text, _>(kind)
        .bind::<SqlUuid, _>(aggregate_id),
    )
    .execute(conn)
    .await?;
    Ok(deleted > 0)
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = saga_deadlines)]
struct Row {
    kind: String,
    aggregate_id: Uuid,
    due_at: DateTime<Utc>,
    attempts: i32,
    data: Option<serde_json::Value>,
    created_at: DateTime<Utc>,
}

/// Claims the earliest due deadline of one of `kinds` that no one else is firing;
/// the row stays locked until the transaction ends.
pub(super) async fn claim_due(
    conn: &mut AsyncPgConnection,
    kinds: &[String],
) -> QueryResult<Option<Due>> {
    use saga_deadlines::dsl as d;
    let row: Option<Row> = saga_deadlines::table
        .filter(d::kind.eq_any(kinds))
        .filter(d::due_at.le(diesel::dsl::now))
        .order(d::due_at)
        .limit(1)
        .for_update()
        .skip_locked()
        .select(Row::as_select())
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(|r| Due {
        kind: r.kind,
        aggregate_id: r.aggregate_id,
        due_at: r.due_at,
        attempts: r.attempts,
        data: r.data,
        created_at: r.created_at,
    }))
}

/// Applies the handler's `next` to the claimed row of `due`.
pub(super) async fn settle(conn: &mut AsyncPgConnection, due: &Due, next: Next) -> QueryResult<()> {
    use saga_deadlines::dsl as d;
    let row = saga_deadlines::table.find((&due.kind, due.aggregate_id));
    match next {
        Next::Retry { at } => {
            diesel::update(row)
                .set((
                    d::due_at.eq(at),
                    d::attempts.eq(d::attempts + 1),
                    d::failures.eq(0),
                    d::last_error.eq(None::<String>),
                    d::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
        }
        Next::Expired | Next::Done => {
            diesel::delete(row).execute(conn).await?;
        }
    }
    Ok(())
}

/// Records a failed fire of `due` (already rolled back) and puts the row off by a
/// backoff that doubles with each failure in a row: 1 s, 2 s, ... 60 s.
pub(super) async fn record_failure(
    conn: &mut AsyncPgConnection,
    due: &Due,
    error: &str,
) -> QueryResult<()> {
    use saga_deadlines::dsl as d;
    let failures: i32 = saga_deadlines::table
        .find((&due.kind, due.aggregate_id))
        .select(d::failures)
        .first(conn)
        .await
        .optional()?
        .unwrap_or(0);
    let backoff = failure_backoff(failures);
    let at = Utc::now() + chrono::Duration::from_std(backoff).unwrap_or_default();
    diesel::update(saga_deadlines::table.find((&due.kind, due.aggregate_id)))
        .set((
            d::due_at.eq(at),
            d::failures.eq(d::failures + 1),
            d::last_error.eq(error),
            d::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Delay after the `failures`-th failure in a row (0-based): 1 s doubling to 60 s.
fn failure_backoff(failures: i32) -> Duration {
    let exponent = u32::try_from(failures.clamp(0, 6)).unwrap_or(6);
    Duration::from_secs(2u64.pow(exponent)).min(Duration::from_secs(60))
}

/// How the deadlines of one kind stand, as far as trouble goes: what is late and what
/// is failing ([`standing`]).
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct KindStanding {
    /// The kind, e.g. `order.stock_request`.
    #[diesel(sql_type = Text)]
    pub kind: String,
    /// Rows past due and not yet fired.
    #[diesel(sql_type = Int8)]
    pub overdue: i64,
    /// Seconds since the earliest past-due row was due (0 when none).
    #[diesel(sql_type = Double)]
    pub overdue_seconds: f64,
    /// Rows whose last fire failed.
    #[diesel(sql_type = Int8)]
    pub failing: i64,
    /// One of their errors.
    #[diesel(sql_type = Nullable<Text>)]
    pub last_error: Option<String>,
}

/// Past-due and failing rows [`standing`] reads before it counts them all instead.
const SAMPLE: usize = 100;

/// One past-due or failing row, as [`standing`] reads it.
#[derive(QueryableByName)]
struct Trouble {
    #[diesel(sql_type = Text)]
    kind: String,
    /// Seconds past due; NULL for a failing row.
    #[diesel(sql_type = Nullable<Double>)]
    late_seconds: Option<f64>,
    /// The failure; NULL for a past-due row.
    #[diesel(sql_type = Nullable<Text>)]
    last_error: Option<String>,
}

/// The kinds that have past-due or failing deadlines, and how many.
///
/// The worker asks this once a second, while most rows are open steps due later (one
/// payment deadline per unpaid order): so it reads only the past-due rows, earliest
/// first on the `due_at` index, and the failing ones, on their partial index — none of
/// either while all is well, whatever the number of open rows. The `ORDER BY ... LIMIT`
/// keeps the indexes chosen even on a table without statistics. Past [`SAMPLE`] rows of
/// either (real trouble) it counts every row, which costs a scan.
pub async fn standing(conn: &mut AsyncPgConnection) -> QueryResult<Vec<KindStanding>> {
    let rows: Vec<Trouble> = diesel::sql_query(format!(
        "(SELECT kind, extract(epoch FROM now() - due_at)::float8 AS late_seconds, \
                 NULL::text AS last_error \
          FROM saga_deadlines WHERE due_at <= now() ORDER BY due_at LIMIT {SAMPLE}) \
         UNION ALL \
         (SELECT kind, NULL::float8, coalesce(last_error, '') \
          FROM saga_deadlines WHERE failures > 0 ORDER BY failures DESC LIMIT {SAMPLE})"
    ))
    .load(conn)
    .await?;
    let late = rows.iter().filter(|r| r.late_seconds.is_some()).count();
    if late >= SAMPLE || rows.len() - late >= SAMPLE {
        return counted(conn).await;
    }
    let mut kinds: Vec<KindStanding> = Vec::new();
    for row in rows {
        let at = match kinds.iter().position(|k| k.kind == row.kind) {
            Some(at) => at,
            None => {
                kinds.push(KindStanding {
                    kind: row.kind.clone(),
                    overdue: 0,
                    overdue_seconds: 0.0,
                    failing: 0,
                    last_error: None,
                });
                kinds.len() - 1
            }
        };
        let standing = &mut kinds[at];
        if let Some(late) = row.late_seconds {
            standing.overdue += 1;
            standing.overdue_seconds = standing.overdue_seconds.max(late);
        }
        if let Some(error) = row.last_error {
            standing.failing += 1;
            standing.last_error.get_or_insert(error);
        }
    }
    Ok(kinds)
}

/// [`standing`] by counting every row.
async fn counted(conn: &mut AsyncPgConnection) -> QueryResult<Vec<KindStanding>> {
    diesel::sql_query(
        "SELECT kind, \
                count(*) FILTER (WHERE due_at <= now()) AS overdue, \
                coalesce(extract(epoch FROM now() - min(due_at) FILTER (WHERE due_at <= now())), 0)::float8 \
                    AS overdue_seconds, \
                count(*) FILTER (WHERE failures > 0) AS failing, \
                max(last_error) FILTER (WHERE failures > 0) AS last_error \
         FROM saga_deadlines WHERE due_at <= now() OR failures > 0 GROUP BY kind",
    )
    .load(conn)
    .await
}

/// Open rows (steps waiting) per kind: a scan of the table, so the worker recounts
/// only now and then ([`super::DeadlineWorkerBuilder::recount_every`]).
pub(super) async fn open_counts(conn: &mut AsyncPgConnection) -> QueryResult<Vec<(String, i64)>> {
    #[derive(QueryableByName)]
    struct Open {
        #[diesel(sql_type = Text)]
        kind: String,
        #[diesel(sql_type = Int8)]
        open: i64,
    }
    let rows: Vec<Open> =
        diesel::sql_query("SELECT kind, count(*) AS open FROM saga_deadlines GROUP BY kind")
            .load(conn)
            .await?;
    Ok(rows.into_iter().map(|r| (r.kind, r.open)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_fires_back_off_from_one_second_to_a_minute() {
        assert_eq!(failure_backoff(0), Duration::from_secs(1));
        assert_eq!(failure_backoff(3), Duration::from_secs(8));
        assert_eq!(failure_backoff(6), Duration::from_secs(60));
        assert_eq!(failure_backoff(1000), Duration::from_secs(60));
    }
}
