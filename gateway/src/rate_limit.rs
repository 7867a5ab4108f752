//! Per-IP rate limits on the endpoints that guess passwords or create accounts.
//!
//! GCRA (crate `governor`): a burst is allowed at once, then requests refill at the
//! sustained rate. The key is the client's address as [`crate::client_address`] finds
//! it: the TCP peer, or behind trusted load balancers the address they report.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::client_address::TrustedProxies;
use crate::settings::RateLimitSettings;

/// Keyed by client IP and endpoint, so login attempts do not use up registrations.
pub struct RateLimits {
    limiter: DefaultKeyedRateLimiter<(IpAddr, &'static str)>,
    clock: DefaultClock,
    /// Whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
}

impl RateLimits {
    /// Limits with the quota of `settings`.
    pub fn new(settings: &RateLimitSettings) -> anyhow::Result<Self> {
        let per_minute = NonZeroU32::new(settings.per_minute)
            .ok_or_else(|| anyhow::anyhow!("rate_limit.per_minute must be positive"))?;
        let burst = NonZeroU32::new(settings.burst)
            .ok_or_else(|| anyhow::anyhow!("rate_limit.burst must be positive"))?;
        let quota = Quota::per_minute(per_minute).allow_burst(burst);
        Ok(Self {
            limiter: RateLimiter::keyed(quota),
            clock: DefaultClock::default(),
            trusted_proxies: TrustedProxies::parse(&settings.trusted_proxies)?,
        })
    }

    /// Ok if `ip` may call `endpoint` now; else how long until it may.
    pub fn check(&self, ip: IpAddr, endpoint: &'static str) -> Result<(), Duration> {
        self.limiter
            .check_key(&(ip, endpoint))
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Forgets clients whose quota is full again, so memory stays bounded by the
    /// clients of the last minute or so.
    pub fn forget_idle_clients(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(burst: u32) -> RateLimits {
        RateLimits::new(&RateLimitSettings {
            per_minute: 1,
            burst,
            trusted_proxies: Vec::new(),
        })
        .expect("valid quota")
    }

    #[test]
    fn a_client_gets_its_burst_then_is_told_how_long_to_wait() {
        let limits = limits(2);
        let ip: IpAddr = [10, 0, 0, 1].into();
        assert!(limits.check(ip, "login").is_ok());
        assert!(limits.check(ip, "login").is_ok());
        let wait = limits.check(ip, "login").expect_err("over the burst");
        assert!(wait > Duration::from_secs(50), "{wait:?}");
    }

    #[test]
    fn clients_and_endpoints_have_separate_quotas() {
        let limits = limits(1);
        let ip: IpAddr = [10, 0, 0, 1].into();
        assert!(limits.check(ip, "login").is_ok());
        assert!(limits.check(ip, "register").is_ok());
        assert!(limits.check([10, 0, 0, 2].into(), "login").is_ok());
        assert!(limits.check(ip, "login").is_err());
    }
}
