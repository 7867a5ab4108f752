//! The worker that fires due deadlines: one transaction per deadline.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use comanda_kit::stalls::Stalls;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::store::{self, KindStanding};
use super::{DeadlineHandler, Due};

/// The name the worker posts its stalls under, unless told otherwise.
pub const DEFAULT_NAME: &str = "deadlines";

/// Builds a [`DeadlineWorker`]: which kinds, which handlers, how often.
pub struct DeadlineWorkerBuilder {
    pool: Pool<AsyncPgConnection>,
    handlers: HashMap<String, Arc<dyn DeadlineHandler>>,
    name: String,
    poll_interval: Duration,
    overdue_after: Duration,
    batch: usize,
    recount_every: Duration,
    stalls: Stalls,
}

impl DeadlineWorkerBuilder {
    /// Fires deadlines of `kind` with `handler`.
    pub fn handle(mut self, kind: &str, handler: impl DeadlineHandler) -> Self {
        self.handlers.insert(kind.to_owned(), Arc::new(handler));
        self
    }

    /// How often [`DeadlineWorker::run`] looks for due deadlines (default 1 s; up to
    /// a tenth more, so instances drift apart).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval.max(Duration::from_millis(10));
        self
    }

    /// How late a deadline may be before the worker reports a stall (default 30 s).
    pub fn overdue_after(mut self, after: Duration) -> Self {
        self.overdue_after = after;
        self
    }

    /// Most deadlines fired per [`DeadlineWorker::fire_due`] call (default 100).
    pub fn batch(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// How often [`DeadlineWorker::run`] counts the open deadlines for
    /// `saga_deadlines_open` (default 30 s). Counting reads every open row, one per
    /// open step (tens of thousands of unpaid orders), so it is not done on every
    /// poll; late and failing deadlines are looked for on every poll, by index.
    pub fn recount_every(mut self, every: Duration) -> Self {
        self.recount_every = every;
        self
    }

    /// Where the worker reports that it is stuck (read by `/ready`).
    pub fn stalls(mut self, stalls: Stalls) -> Self {
        self.stalls = stalls;
        self
    }

    /// Its name on the stall board and in logs (default `deadlines`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The worker.
    pub fn build(self) -> DeadlineWorker {
        let mut kinds: Vec<String> = self.handlers.keys().cloned().collect();
        kinds.sort();
        DeadlineWorker {
            pool: self.pool,
            handlers: self.handlers,
            kinds,
            name: self.name,
            poll_interval: self.poll_interval,
            overdue_after: self.overdue_after,
            batch: self.batch,
            recount_every: self.recount_every,
            stalls: self.stalls,
        }
    }
}

/// Fires the due deadlines of one service database. Any number of instances may run
/// on one database: each deadline fires in one of them, once.
pub struct DeadlineWorker {
    pool: Pool<AsyncPgConnection>,
    handlers: HashMap<String, Arc<dyn DeadlineHandler>>,
    kinds: Vec<String>,
    name: String,
    poll_interval: Duration,
    overdue_after: Duration,
    batch: usize,
    recount_every: Duration,
    stalls: Stalls,
}

/// What one pass over due deadlines did.
#[derive(Debug, Default)]
struct Pass {
    fired: usize,
    failed: usize,
}

/// Why a fire's transaction rolled back.
enum FireError {
    Db(diesel::result::Error),
    Handler(Box<Due>, anyhow::Error),
}

impl From<diesel::result::Error> for FireError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Db(error)
    }
}

impl DeadlineWorker {
    /// Starts building the worker of the database behind `pool`.
    pub fn builder(pool: Pool<AsyncPgConnection>) -> DeadlineWorkerBuilder {
        DeadlineWorkerBuilder {
            pool,
            handlers: HashMap::new(),
            name: DEFAULT_NAME.to_owned(),
            poll_interval: Duration::from_secs(1),
            overdue_after: Duration::from_secs(30),
            batch: 100,
            recount_every: Duration::from_secs(30),
            stalls: Stalls::new(),
        }
    }

    /// Fires the deadlines due now (at most one batch), each in its own transaction;
    /// returns how many fired. A handler that fails is rolled back, put off and not
    /// counted. Errs only when the database cannot be used. Tests call it to drain
    /// deterministically.
    pub async fn fire_due(&self) -> anyhow::Result<usize> {
        Ok(self.fire_batch().await?.fired)
    }

    /// Fires due deadlines every poll interval until `shutdown` completes. A fire in
    /// progress when it does is abandoned uncommitted, so it is due again at once.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut backoff = self.poll_interval;
        let mut counted_at: Option<Instant> = None;
        loop {
            let recount = counted_at.is_none_or(|at| at.elapsed() >= self.recount_every);
            let wait = tokio::select! {
                _ = &mut shutdown => return,
                result = self.pass(recount) => match result {
                    Ok(()) => {
                        if recount {
                            counted_at = Some(Instant::now());
                        }
                        backoff = self.poll_interval;
                        jittered(self.poll_interval)
                    }
                    Err(error) => {
                        tracing::warn!(worker = %self.name, error = %format!("{error:#}"), "cannot fire deadlines; retrying");
                        self.stalls
                            .set(&self.name, format!("cannot fire due deadlines: {error:#}"));
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                        backoff
                    }
                },
            };
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Fires everything due (batch after batch), then reports how deadlines stand
    /// (with the open ones counted when `recount`).
    async fn pass(&self, recount: bool) -> anyhow::Result<()> {
        loop {
            let pass = self.fire_batch().await?;
            if pass.fired + pass.failed < self.batch {
                break;
            }
        }
        self.watch(recount).await
    }

    async fn fire_batch(&self) -> anyhow::Result<Pass> {
        let mut conn = self.pool.get().await.context("connecting")?;
        let mut pass = Pass::default();
        while pass.fired + pass.failed < self.batch {
            match self.fire_one(&mut conn).await? {
                None => break,
                Some(true) => pass.fired += 1,
                Some(false) => pass.failed += 1,
            }
        }
        Ok(pass)
    }

    /// Claims, fires and settles one due deadline in one transaction. `None` when
    /// none is due; `Some(false)` when its handler failed (rolled back, put off).
    async fn fire_one(&self, conn: &mut AsyncPgConnection) -> anyhow::Result<Option<bool>> {
        let kinds = &self.kinds;
        let handlers = &self.handlers;
        let fired = conn
            .transaction::<_, FireError, _>(async |conn| {
                let Some(due) = store::claim_due(conn, kinds).await? else {
                    return Ok(None);
                };
                let Some(handler) = handlers.get(&due.kind) else {
                    // Only registered kinds are claimed.
                    return Ok(None);
                };
                match handler.fire(&due, conn).await {
                    Ok(next) => {
                        store::settle(conn, &due, next).await?;
                        Ok(Some((due, next)))
                    }
                    Err(error) => Err(FireError::Handler(Box::new(due), error)),
                }
            })
            .await;
        match fired {
            Ok(None) => Ok(None),
            Ok(Some((due, next))) => {
                tracing::info!(
                    worker = %self.name,
                    kind = %due.kind,
                    aggregate_id = %due.aggregate_id,
                    attempts = due.attempts + 1,
                    outcome = next.label(),
                    "deadline fired"
                );
                count(&due.kind, next.label());
                Ok(Some(true))
            }
            Err(FireError::Handler(due, error)) => {
                let error = format!("{error:#}");
                tracing::warn!(
                    worker = %self.name,
                    kind = %due.kind,
                    aggregate_id = %due.aggregate_id,
                    %error,
                    "deadline handler failed; retrying later"
                );
                count(&due.kind, "failed");
                store::record_failure(conn, &due, &error)
                    .await
                    .context("recording a failed deadline")?;
                Ok(Some(false))
            }
            Err(FireError::Db(error)) => Err(error).context("firing a deadline"),
        }
    }

    /// Publishes the gauges and posts (or clears) the worker's stall; recounts the
    /// open deadlines when `recount`.
    async fn watch(&self, recount: bool) -> anyhow::Result<()> {
        let mut conn = self.pool.get().await.context("connecting")?;
        let standings = store::standing(&mut conn)
            .await
            .context("reading deadline status")?;
        if recount {
            let open = store::open_counts(&mut conn)
                .await
                .context("counting open deadlines")?;
            for kind in &self.kinds {
                let open = open.iter().find(|(k, _)| k == kind).map_or(0, |(_, n)| *n);
                // Literal names at each call: tests/stack checks the dashboards against them.
                metrics::gauge!("saga_deadlines_open", "kind" => kind.clone()).set(open as f64);
            }
        }
        for kind in &self.kinds {
            let standing = standings.iter().find(|s| &s.kind == kind);
            metrics::gauge!("saga_deadlines_overdue", "kind" => kind.clone())
                .set(standing.map_or(0.0, |s| s.overdue as f64));
            metrics::gauge!("saga_deadlines_overdue_seconds", "kind" => kind.clone())
                .set(standing.map_or(0.0, |s| s.overdue_seconds));
            metrics::gauge!("saga_deadlines_failing", "kind" => kind.clone())
                .set(standing.map_or(0.0, |s| s.failing as f64));
        }
        match self.stall_reason(&standings) {
            Some(reason) => self.stalls.set(&self.name, reason),
            None => self.stalls.clear(&self.name),
        }
        Ok(())
    }

    /// Why the worker counts as stuck, if it does: a handler failing, or a deadline
    /// overdue by more than `overdue_after`.
    fn stall_reason(&self, statuses: &[KindStanding]) -> Option<String> {
        let mine = || statuses.iter().filter(|s| self.kinds.contains(&s.kind));
        if let Some(failing) = mine().find(|s| s.failing > 0) {
            return Some(format!(
                "{} deadline(s) of {} failing: {}",
                failing.failing,
                failing.kind,
                failing.last_error.as_deref().unwrap_or("unknown error")
            ));
        }
        let limit = self.overdue_after.as_secs_f64();
        mine().find(|s| s.overdue_seconds > limit).map(|late| {
            format!(
                "{} deadline(s) of {} overdue, the oldest by {:.0}s",
                late.overdue, late.kind, late.overdue_seconds
            )
        })
    }
}

fn count(kind: &str, outcome: &'static str) {
    metrics::counter!(
        "saga_deadlines_fired_total",
        "kind" => kind.to_owned(),
        "outcome" => outcome
    )
    .increment(1);
}

/// `interval` plus up to a tenth more, so several instances do not poll in step.
fn jittered(interval: Duration) -> Duration {
    let spread = interval.as_millis() as u64 / 10;
    if spread == 0 {
        return interval;
    }
    let random = uuid::Uuid::new_v4().as_u128() as u64;
    interval + Duration::from_millis(random % spread)
}
