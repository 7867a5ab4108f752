//! What the proxy handler shares across requests and workers (each worker has its
//! own [`crate::proxy::Proxy`]).

use std::sync::Arc;

use crate::rate_limit::RateLimits;
use crate::upstreams::Upstreams;

/// The gateway's shared state, registered as `web::Data<Edge>`.
pub struct Edge {
    /// Instances and their health; shared with the health checker.
    pub upstreams: Arc<Upstreams>,
    /// Per-IP limits on login and register, per-user limits on placing orders; shared
    /// with their clean-up worker.
    pub rate_limits: Arc<RateLimits>,
}
