//! Start-up of the gateway: upstreams, proxy, rate limits, the health checker, and the
//! kit's HTTP server with the forwarded routes.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use comanda_kit::auth::JwtVerifier;
use comanda_kit::health::Readiness;
use comanda_kit::http::Server;
use comanda_kit::workers::Workers;

use crate::docs::Docs;
use crate::rate_limit::RateLimits;
use crate::routes::{self, RouteContext};
use crate::settings::Settings;
use crate::state::Edge;
use crate::upstreams::Upstreams;
use crate::{cors, health_check};

/// How often rate-limit state of clients that went quiet is dropped.
const RATE_LIMIT_CLEANUP: Duration = Duration::from_secs(60);

/// The bound gateway and its background workers.
pub struct Application {
    server: Server,
    workers: Workers,
}

impl Application {
    /// The port actually bound (useful with port 0).
    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// Serves until `shutdown` completes, then drains requests and stops the workers.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        self.server
            .run_until_stopped_with(shutdown, self.workers)
            .await
    }
}

/// Binds the gateway and starts its health checker; `/ready` has no dependency to
/// check (an upstream being down is answered per request with a 503).
///
/// Must be called inside a tokio runtime.
pub fn build(settings: &Settings) -> anyhow::Result<Application> {
    cors::validate(&settings.cors)?;
    let upstreams = Arc::new(Upstreams::from_settings(&settings.upstreams)?);
    let rate_limits = Arc::new(RateLimits::new(&settings.rate_limit)?);
    let context = RouteContext {
        edge: web::Data::new(Edge {
            upstreams: upstreams.clone(),
            rate_limits: rate_limits.clone(),
        }),
        verifier: web::Data::new(JwtVerifier::from_settings(&settings.auth, &settings.env)?),
        docs: web::Data::new(Docs::new(upstreams.clone())?),
        cors: settings.cors.clone(),
        proxy: settings.proxy.clone(),
    };

    let mut workers = Workers::new();
    health_check::spawn(&mut workers, upstreams, &settings.health_check)?;
    workers.spawn("rate-limit-cleanup", move |token| async move {
        while tokio::select! {
            () = token.cancelled() => false,
            () = tokio::time::sleep(RATE_LIMIT_CLEANUP) => true,
        } {
            rate_limits.forget_idle_clients();
        }
    });

    let server = Server::bind(&settings.http, Readiness::new(), move |cfg| {
        routes::configure(&context, cfg);
    })?;
    tracing::info!(port = server.port(), env = %settings.env, "listening");
    Ok(Application { server, workers })
}
