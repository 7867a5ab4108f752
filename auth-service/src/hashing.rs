//! Password hashing with bounded concurrency.
//!
//! One argon2id hash or verification takes ~19 MiB and a core for tens of
//! milliseconds. Unbounded, a burst of logins starts one per blocking thread (up to
//! 512 per runtime) and exhausts memory long before it finishes. So hashing runs
//! `max_concurrent` at a time (default: the number of cores), behind a short queue
//! (`queue`, default twice that); a request that finds both full is answered at once
//! with 503 `busy` and `Retry-After`, before it touches the database.
//!
//! Metrics: `auth_password_hashes_in_flight` (gauge), `auth_password_hashes_in_flight_peak`
//! (the most ever at once) and `auth_password_hashes_refused_total` (counter).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use comanda_kit::problem::Problem;
use serde::Deserialize;
use tokio::sync::Semaphore;

/// `[hashing]`: how many password hashes run at once and how many may wait.
#[derive(Debug, Clone, Deserialize)]
pub struct HashingSettings {
    /// Hashes running at once; absent: the number of cores.
    #[serde(default)]
    pub max_concurrent: Option<usize>,
    /// Requests that may wait for a slot; absent: twice `max_concurrent`.
    #[serde(default)]
    pub queue: Option<usize>,
    /// `Retry-After` of a refused request, in seconds.
    #[serde(default = "default_retry_after")]
    pub retry_after_secs: u64,
}

impl Default for HashingSettings {
    fn default() -> Self {
        Self {
            max_concurrent: None,
            queue: None,
            retry_after_secs: default_retry_after(),
        }
    }
}

/// A second: a slot frees within tens of milliseconds, so a prompt retry mostly wins.
fn default_retry_after() -> u64 {
    1
}

/// The bounded hashing pool; cheap to clone (shared state).
#[derive(Clone)]
pub struct Hashing {
    inner: Arc<Inner>,
}

struct Inner {
    slots: Semaphore,
    max_concurrent: usize,
    /// Running plus waiting requests may not exceed this.
    capacity: usize,
    admitted: AtomicUsize,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
    retry_after: Duration,
}

impl Hashing {
    /// A pool as `settings` say (at least one slot).
    pub fn new(settings: &HashingSettings) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let max_concurrent = settings.max_concurrent.unwrap_or(cores).max(1);
        let queue = settings.queue.unwrap_or(2 * max_concurrent);
        Self {
            inner: Arc::new(Inner {
                slots: Semaphore::new(max_concurrent),
                max_concurrent,
                capacity: max_concurrent + queue,
                admitted: AtomicUsize::new(0),
                in_flight: AtomicUsize::new(0),
                peak: AtomicUsize::new(0),
                retry_after: Duration::from_secs(settings.retry_after_secs),
            }),
        }
    }

    /// Hashes allowed at once.
    pub fn max_concurrent(&self) -> usize {
        self.inner.max_concurrent
    }

    /// The most hashes that ever ran at once.
    pub fn peak(&self) -> usize {
        self.inner.peak.load(Ordering::SeqCst)
    }

    /// A place in the queue, or [`Busy`] at once when running and waiting are full.
    /// Take it before any other work of the request, so a refusal costs nothing.
    pub fn admit(&self) -> Result<Admission, Busy> {
        let inner = &self.inner;
        let before = inner.admitted.fetch_add(1, Ordering::SeqCst);
        if before >= inner.capacity {
            inner.admitted.fetch_sub(1, Ordering::SeqCst);
            metrics::counter!("auth_password_hashes_refused_total").increment(1);
            return Err(Busy {
                retry_after: inner.retry_after,
            });
        }
        Ok(Admission {
            inner: Arc::clone(inner),
        })
    }
}

/// An admitted request: it may hash once, waiting for a slot if need be.
pub struct Admission {
    inner: Arc<Inner>,
}

impl Admission {
    /// Runs `work` (a hash or a verification) on a blocking thread once a slot is free.
    pub async fn run<T, F>(self, work: F) -> Result<T, Problem>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let inner = &self.inner;
        // The semaphore is never closed, so acquiring only fails if it were.
        let _slot = inner.slots.acquire().await.map_err(Problem::internal)?;
        let now = inner.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        let peak = inner.peak.fetch_max(now, Ordering::SeqCst).max(now);
        metrics::gauge!("auth_password_hashes_in_flight").set(now as f64);
        metrics::gauge!("auth_password_hashes_in_flight_peak").set(peak as f64);
        let result = tokio::task::spawn_blocking(work).await;
        let now = inner.in_flight.fetch_sub(1, Ordering::SeqCst) - 1;
        metrics::gauge!("auth_password_hashes_in_flight").set(now as f64);
        result.map_err(Problem::internal)
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.inner.admitted.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Every hashing slot and queue place is taken: 503 `busy` with `Retry-After`.
#[derive(Debug, thiserror::Error)]
#[error("too many password checks at once")]
pub struct Busy {
    retry_after: Duration,
}

impl Busy {
    fn problem(&self) -> Problem {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            format!(
                "too many sign-ins and registrations at once; retry in {} s",
                self.retry_after.as_secs()
            ),
        )
    }
}

impl ResponseError for Busy {
    fn status_code(&self) -> StatusCode {
        StatusCode::SERVICE_UNAVAILABLE
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = self.problem().error_response();
        response.headers_mut().insert(
            header::RETRY_AFTER,
            header::HeaderValue::from(self.retry_after.as_secs()),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(max_concurrent: usize, queue: usize) -> Hashing {
        Hashing::new(&HashingSettings {
            max_concurrent: Some(max_concurrent),
            queue: Some(queue),
            retry_after_secs: 1,
        })
    }

    #[test]
    fn admissions_beyond_the_slots_and_the_queue_are_refused_until_one_ends() {
        let hashing = pool(2, 1);
        let held: Vec<_> = (0..3).map(|_| hashing.admit().expect("admitted")).collect();
        assert!(hashing.admit().is_err(), "2 running + 1 waiting is full");
        drop(held);
        assert!(hashing.admit().is_ok(), "places are given back");
    }

    #[tokio::test]
    async fn no_more_than_max_concurrent_hashes_run_at_once() {
        let hashing = pool(2, 20);
        let runs: Vec<_> = (0..20)
            .map(|_| {
                let admission = hashing.admit().expect("admitted");
                tokio::spawn(admission.run(|| std::thread::sleep(Duration::from_millis(20))))
            })
            .collect();
        for run in runs {
            run.await.expect("joined").expect("ran");
        }
        assert_eq!(hashing.peak(), 2);
    }
}
