//! The instances of each service and which of them are healthy; round robin over those.
//!
//! This replaces a service registry: instances come from settings, and health is
//! learnt twice — by the background checker ([`crate::health_check`]) and by requests
//! that fail to connect — so a dead instance stops getting traffic within one
//! request, and a revived one gets it back within one check interval.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::routing::Service;
use crate::settings::{UpstreamSettings, UpstreamsSettings};

/// One instance of a service.
#[derive(Debug)]
pub struct Instance {
    /// Base URL without a trailing slash, e.g. `http://127.0.0.1:5010`.
    pub base_url: String,
    /// Optimistically true at start, so the gateway serves before the first check.
    healthy: AtomicBool,
}

impl Instance {
    /// Whether requests may go to this instance.
    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// Records a health verdict; logs only changes, so a dead instance logs once.
    pub fn set_healthy(&self, service: Service, healthy: bool) {
        let was = self.healthy.swap(healthy, Ordering::Relaxed);
        if was != healthy {
            if healthy {
                tracing::info!(%service, instance = %self.base_url, "instance is back in rotation");
            } else {
                tracing::warn!(%service, instance = %self.base_url, "instance taken out of rotation");
            }
        }
    }
}

/// The instances of one service, and the round-robin cursor over them.
#[derive(Debug)]
pub struct Upstream {
    /// Which service these instances serve.
    pub service: Service,
    /// Every configured instance, healthy or not.
    pub instances: Vec<Instance>,
    next: AtomicUsize,
}

impl Upstream {
    fn new(service: Service, settings: &UpstreamSettings) -> Self {
        let instances = settings
            .urls
            .iter()
            .map(|url| Instance {
                base_url: url.trim_end_matches('/').to_owned(),
                healthy: AtomicBool::new(true),
            })
            .collect();
        Self {
            service,
            instances,
            next: AtomicUsize::new(0),
        }
    }

    /// The next healthy instance in turn, skipping `excluded` (one that just failed);
    /// `None` when no other instance is healthy.
    pub fn pick(&self, excluded: Option<usize>) -> Option<usize> {
        let count = self.instances.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..count)
            .map(|offset| (start + offset) % count)
            .find(|&i| Some(i) != excluded && self.instances[i].is_healthy())
    }
}

/// The instances of all five services.
#[derive(Debug)]
pub struct Upstreams {
    all: [Upstream; 5],
}

impl Upstreams {
    /// The instances named in settings, all presumed healthy.
    pub fn from_settings(settings: &UpstreamsSettings) -> anyhow::Result<Self> {
        let all = [
            Upstream::new(Service::Auth, &settings.auth),
            Upstream::new(Service::User, &settings.user),
            Upstream::new(Service::Order, &settings.order),
            Upstream::new(Service::Product, &settings.product),
            Upstream::new(Service::Payment, &settings.payment),
        ];
        for upstream in &all {
            anyhow::ensure!(
                !upstream.instances.is_empty(),
                "upstreams.{}.urls lists no instance",
                upstream.service
            );
        }
        Ok(Self { all })
    }

    /// The instances of `service`.
    pub fn get(&self, service: Service) -> &Upstream {
        // `all` is built in the order of the enum's variants.
        &self.all[service as usize]
    }

    /// Every service's instances.
    pub fn iter(&self) -> impl Iterator<Item = &Upstream> {
        self.all.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstream(count: usize) -> Upstream {
        let urls = (0..count).map(|i| format!("http://h{i}/")).collect();
        Upstream::new(Service::Order, &UpstreamSettings { urls })
    }

    #[test]
    fn instances_take_turns() {
        let upstream = upstream(3);
        let picks: Vec<_> = (0..6).filter_map(|_| upstream.pick(None)).collect();
        assert_eq!(picks, [0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn unhealthy_instances_are_skipped_until_they_recover() {
        let upstream = upstream(2);
        upstream.instances[0].set_healthy(Service::Order, false);
        assert!((0..4).all(|_| upstream.pick(None) == Some(1)));
        upstream.instances[0].set_healthy(Service::Order, true);
        let picks: Vec<_> = (0..4).filter_map(|_| upstream.pick(None)).collect();
        assert!(picks.contains(&0) && picks.contains(&1), "{picks:?}");
    }

    #[test]
    fn the_excluded_instance_is_never_picked_and_none_is_left_when_all_are_out() {
        let upstream = upstream(2);
        assert!((0..4).all(|_| upstream.pick(Some(0)) == Some(1)));
        upstream.instances[1].set_healthy(Service::Order, false);
        assert_eq!(upstream.pick(Some(0)), None);
    }

    #[test]
    fn base_urls_lose_their_trailing_slash() {
        assert_eq!(upstream(1).instances[0].base_url, "http://h0");
    }
}
