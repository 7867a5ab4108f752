//! Durable saga deadlines: "if this step has not finished by then, act".
//!
//! Every saga step that waits for another service has a deadline. The step
//! [`schedule`]s it in the transaction that starts it (an order stored PENDING, a
//! registration accepted) and [`clear`]s it in the transaction that completes it (the
//! reply applied, the order cancelled). The row lives in the service's own database
//! (`saga_deadlines`, created by [`crate::MIGRATIONS`]), so nothing is kept in memory
//! and nothing is lost on a restart.
//!
//! A [`DeadlineWorker`] per service fires due deadlines: each in ONE transaction that
//! claims the row (`FOR UPDATE SKIP LOCKED`), runs the [`DeadlineHandler`] registered
//! for its kind (its effects and events go in the same transaction) and reschedules
//! or deletes the row as the handler says ([`Next`]). So a deadline fires once
//! whichever instance runs it; a worker that dies mid-fire rolls back and the row is
//! due again for the next one.
//!
//! # The handler's one duty
//! A handler must look at its aggregate under the aggregate's row lock and return
//! [`Next::Done`] when the step has completed meanwhile. [`clear`] skips a row that a
//! worker is firing at that moment (waiting on it could deadlock with the handler,
//! which locks the aggregate after the row); the handler then finds the step
//! complete, and the row goes.
//!
//! # Failures
//! A handler error rolls the fire back; the row stays, is retried with backoff
//! (1 s doubling to 60 s) and counted in `failures`. A database the worker cannot
//! use is waited out. Either way the worker posts a stall on the service's stall
//! board (`/ready` reports it), as it does when a deadline is overdue by more than
//! `overdue_after` (default 30 s) — the worker is not keeping up or not running.
//!
//! # Metrics
//! - `saga_deadlines_fired_total{kind, outcome}`, `outcome` = `retried` (the step was
//!   retried and waits again), `expired` (the handler gave up and compensated),
//!   `done` (the step had completed), `failed` (the handler failed; retried later).
//! - `saga_deadlines_open{kind}`: steps waiting (rows), recounted every 30 s
//!   ([`DeadlineWorkerBuilder::recount_every`]).
//! - `saga_deadlines_overdue{kind}`: rows past due and not yet fired.
//! - `saga_deadlines_overdue_seconds{kind}`: how late the most overdue one is.
//! - `saga_deadlines_failing{kind}`: rows whose handler failed at its last fire.

mod settings;
mod store;
mod worker;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

pub use settings::SagaSettings;
pub use store::{clear, schedule, schedule_with_data, standing, KindStanding};
pub use worker::{DeadlineWorker, DeadlineWorkerBuilder};

/// A deadline that has come due, as its handler sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Due {
    /// The step, e.g. `order.stock_request`.
    pub kind: String,
    /// The aggregate the step belongs to.
    pub aggregate_id: Uuid,
    /// When it was due.
    pub due_at: DateTime<Utc>,
    /// How many times it fired before (0 the first time).
    pub attempts: i32,
    /// What was scheduled with it ([`schedule_with_data`]).
    pub data: Option<serde_json::Value>,
    /// When the step began.
    pub created_at: DateTime<Utc>,
}

/// What becomes of a deadline once its handler has run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// The step was retried (e.g. its request re-sent): wait again until `at`.
    Retry {
        /// The next deadline.
        at: DateTime<Utc>,
    },
    /// The handler gave up on the step and compensated (e.g. the order was rejected):
    /// the deadline is deleted.
    Expired,
    /// The step had already completed: the deadline is deleted.
    Done,
}

impl Next {
    fn label(self) -> &'static str {
        match self {
            Next::Retry { .. } => "retried",
            Next::Expired => "expired",
            Next::Done => "done",
        }
    }
}

/// Acts when a deadline of one kind is due, inside the fire's transaction.
///
/// `conn` is inside the transaction that claimed the deadline: lock the aggregate,
/// check that the step is still open (else [`Next::Done`]), do the effect and append
/// events on it. An error rolls everything back and the deadline is retried later.
#[async_trait]
pub trait DeadlineHandler: Send + Sync + 'static {
    /// Handles `due`.
    async fn fire(&self, due: &Due, conn: &mut AsyncPgConnection) -> anyhow::Result<Next>;
}
