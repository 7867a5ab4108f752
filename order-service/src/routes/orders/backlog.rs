//! The saga backlog guard of `POST /api/v1/orders`: beyond `orders.max_pending` orders
//! waiting for their stock decision, new orders are refused 503 `saga_backlog_full`
//! with `Retry-After`, and nothing is written.
//!
//! Why shed: intake over HTTP is cheaper than the saga behind it, so a saturated
//! system accepts orders faster than it decides them. The backlog then only grows, every
//! order waits longer, and once the wait passes the stock request's deadline
//! (`saga.request_timeout_secs`) order-service sends the requests again, into the same
//! queues (the e2e bench at saturation: 11,671 resends for 14,804 orders, decisions
//! after 50 s). Refusing at the door keeps the queue short enough for every accepted
//! order to be decided well within its deadline, and tells the client when to retry.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use comanda_kit::problem::Problem;
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;

use crate::db::orders;

/// How long a count of the backlog is reused: a count per request would cost more than
/// the orders it guards at high rates, and a backlog moves little in this time.
const FRESH_FOR: Duration = Duration::from_millis(200);
/// `Retry-After` of a refused order, in seconds.
const RETRY_AFTER_SECS: u64 = 1;

/// Counts the orders waiting for their stock decision, at most every [`FRESH_FOR`].
#[derive(Debug)]
pub struct SagaBacklog {
    max: u32,
    last: Mutex<Option<(Instant, i64)>>,
}

impl SagaBacklog {
    /// A guard refusing orders while `max` or more are PENDING; 0: no limit.
    pub fn new(max: u32) -> Self {
        Self {
            max,
            last: Mutex::new(None),
        }
    }

    /// True when no order more may be accepted now.
    pub async fn is_full(&self, conn: &mut AsyncPgConnection) -> QueryResult<bool> {
        if self.max == 0 {
            return Ok(false);
        }
        let cached = *self.last.lock().unwrap_or_else(|e| e.into_inner());
        let pending = match cached {
            Some((at, count)) if at.elapsed() < FRESH_FOR => count,
            _ => {
                let count = orders::count_pending(conn).await?;
                *self.last.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some((Instant::now(), count));
                metrics::gauge!("orders_pending").set(count as f64);
                count
            }
        };
        Ok(pending >= i64::from(self.max))
    }

    /// 503 `saga_backlog_full` with `Retry-After`.
    pub fn refusal(&self) -> HttpResponse {
        metrics::counter!("orders_shed_total").increment(1);
        let problem = Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "saga_backlog_full",
            format!(
                "{} orders are waiting for their stock decision, the most allowed; \
                 nothing was stored, retry in {RETRY_AFTER_SECS} s",
                self.max
            ),
        );
        let mut response = problem.error_response();
        response.headers_mut().insert(
            header::RETRY_AFTER,
            header::HeaderValue::from(RETRY_AFTER_SECS),
        );
        response
    }
}
