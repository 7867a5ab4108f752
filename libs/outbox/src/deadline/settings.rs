//! `[saga]`: how long a service waits for a step's answer and how often it asks.

use std::time::Duration;

use serde::Deserialize;

/// The `[saga]` settings of a service that waits on other services' replies.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SagaSettings {
    /// How long one request may go unanswered before it is sent again (default 30 s).
    #[serde(default = "default_request_timeout_ms")]
    pub request_timeout_ms: u64,
    /// How many times a request is sent in all before the step gives up and
    /// compensates (default 5, so the last chance ends after 5 timeouts).
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// How often the deadline worker looks for due deadlines (default 1 s).
    #[serde(default = "default_poll_interval_ms")]
    pub poll_interval_ms: u64,
}

impl Default for SagaSettings {
    fn default() -> Self {
        Self {
            request_timeout_ms: default_request_timeout_ms(),
            max_attempts: default_max_attempts(),
            poll_interval_ms: default_poll_interval_ms(),
        }
    }
}

impl SagaSettings {
    /// [`Self::request_timeout_ms`] as a duration.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// [`Self::poll_interval_ms`] as a duration.
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms)
    }

    /// When a request sent now times out.
    pub fn next_deadline(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + chrono::Duration::milliseconds(self.request_timeout_ms as i64)
    }

    /// Whether a deadline that fired `attempts` times before may send its request
    /// again, or the step has had all its attempts (the first send counts as one).
    pub fn may_resend(&self, attempts: i32) -> bool {
        i64::from(attempts) + 1 < i64::from(self.max_attempts)
    }
}

fn default_request_timeout_ms() -> u64 {
    30_000
}

fn default_max_attempts() -> u32 {
    5
}

fn default_poll_interval_ms() -> u64 {
    1_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_attempts_mean_four_resends_and_then_giving_up() {
        let saga = SagaSettings::default();
        let resends = (0..10).filter(|&fired| saga.may_resend(fired)).count();
        assert_eq!(resends, 4);
        assert!(!saga.may_resend(4));
        let once = SagaSettings {
            max_attempts: 1,
            ..SagaSettings::default()
        };
        assert!(!once.may_resend(0));
    }
}
