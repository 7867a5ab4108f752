//! Per-IP rate limits on the endpoints that guess passwords or create accounts, and
//! per-user limits on the ones that take stock (placing orders).
//!
//! GCRA (crate `governor`): a burst is allowed at once, then requests refill at the
//! sustained rate. The per-IP key is the client's address as [`crate::client_address`]
//! finds it (the TCP peer, or behind trusted load balancers the address they report):
//! an IPv4 address, or the /64 network of an IPv6 one. The per-user key is the subject
//! of the verified access token, so a user cannot buy quota with fresh tokens or
//! addresses, and users behind one address do not share it.

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use uuid::Uuid;

use crate::client_address::TrustedProxies;
use crate::settings::RateLimitSettings;

/// Keyed by client IP and endpoint, so login attempts do not use up registrations;
/// and by user and endpoint.
pub struct RateLimits {
    limiter: DefaultKeyedRateLimiter<(IpAddr, &'static str)>,
    per_user: DefaultKeyedRateLimiter<(Uuid, &'static str)>,
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
        let orders = &settings.orders;
        let per_minute = NonZeroU32::new(orders.per_minute)
            .ok_or_else(|| anyhow::anyhow!("rate_limit.orders.per_minute must be positive"))?;
        let burst = NonZeroU32::new(orders.burst)
            .ok_or_else(|| anyhow::anyhow!("rate_limit.orders.burst must be positive"))?;
        let user_quota = Quota::per_minute(per_minute).allow_burst(burst);
        Ok(Self {
            limiter: RateLimiter::keyed(quota),
            per_user: RateLimiter::keyed(user_quota),
            clock: DefaultClock::default(),
            trusted_proxies: TrustedProxies::parse(&settings.trusted_proxies)?,
        })
    }

    /// Ok if the client at `ip` may call `endpoint` now; else how long until it may.
    pub fn check(&self, ip: IpAddr, endpoint: &'static str) -> Result<(), Duration> {
        self.limiter
            .check_key(&(client_key(ip), endpoint))
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Ok if `user` (a verified token's subject) may call `endpoint` now; else how
    /// long until they may.
    pub fn check_user(&self, user: Uuid, endpoint: &'static str) -> Result<(), Duration> {
        self.per_user
            .check_key(&(user, endpoint))
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Forgets clients and users whose quota is full again, so memory stays bounded
    /// by those of the last minute or so.
    pub fn forget_idle_clients(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
        self.per_user.retain_recent();
        self.per_user.shrink_to_fit();
    }
}

/// The quota an address draws on. An IPv4 address is one client. An IPv6 host is
/// handed a whole /64 (SLAAC, privacy addresses) and can pick a fresh address per
/// request, so its /64 is the client. An IPv4 address seen through a dual-stack
/// socket (`::ffff:a.b.c.d`) is that IPv4 address, not the one /64 every IPv4
/// client would share.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let network = v6.to_bits() & (u128::MAX << 64);
            IpAddr::V6(Ipv6Addr::from_bits(network))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::UserRateLimitSettings;

    fn limits(burst: u32) -> RateLimits {
        RateLimits::new(&RateLimitSettings {
            per_minute: 1,
            burst,
            trusted_proxies: Vec::new(),
            orders: UserRateLimitSettings {
                per_minute: 1,
                burst,
            },
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

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn ipv6_addresses_of_one_64_network_share_a_quota() {
        let limits = limits(1);
        assert!(limits.check(ip("2001:db8:a:b::1"), "login").is_ok());
        assert!(limits
            .check(ip("2001:db8:a:b:1234:5678:9abc:def0"), "login")
            .is_err());
        assert!(limits.check(ip("2001:db8:a:c::1"), "login").is_ok());
    }

    #[test]
    fn ipv4_clients_are_one_address_each_however_they_are_written() {
        let limits = limits(1);
        assert!(limits.check(ip("198.51.100.1"), "login").is_ok());
        assert!(limits.check(ip("198.51.100.2"), "login").is_ok());
        assert!(limits.check(ip("::ffff:198.51.100.3"), "login").is_ok());
        assert!(limits.check(ip("::ffff:198.51.100.1"), "login").is_err());
        assert!(limits.check(ip("198.51.100.3"), "login").is_err());
    }

    #[test]
    fn users_have_separate_quotas_from_each_other_and_from_addresses() {
        let limits = limits(1);
        let (alice, bob) = (Uuid::now_v7(), Uuid::now_v7());
        assert!(limits.check_user(alice, "orders").is_ok());
        let wait = limits
            .check_user(alice, "orders")
            .expect_err("over the burst");
        assert!(wait > Duration::from_secs(50), "{wait:?}");
        assert!(limits.check_user(bob, "orders").is_ok());
        assert!(limits.check([10, 0, 0, 1].into(), "login").is_ok());
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
