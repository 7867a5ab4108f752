//! The HTTP server every service runs: listener, middleware, extractor configs, endpoints.
//!
//! Binding happens before the server starts so that tests can ask for port 0 and read the
//! chosen port; the shutdown trigger is a future, so the binary (signals) and tests
//! (dropping or completing a future) run the same code.

use std::future::Future;
use std::net::TcpListener;

use actix_web::http::StatusCode;
use actix_web::middleware::{from_fn, ErrorHandlers};
use actix_web::{web, App, HttpServer};
use anyhow::Context as _;

use crate::health::{self, Readiness};
use crate::settings::HttpSettings;
use crate::workers::Workers;
use crate::{correlation, problem, request_id, request_log};

/// Largest JSON body a handler accepts; larger ones get a 413 `payload_too_large`.
pub const JSON_LIMIT_BYTES: usize = 64 * 1024;
/// Seconds in-flight requests get to finish after shutdown starts.
const SHUTDOWN_TIMEOUT_SECS: u64 = 10;

/// A bound, not yet running, HTTP server.
pub struct Server {
    port: u16,
    server: actix_web::dev::Server,
}

impl Server {
    /// Binds `settings.host:settings.port` and builds the app: the kit's middleware and
    /// endpoints, then `configure` for the service's own routes.
    ///
    /// Must be called inside a tokio runtime.
    pub fn bind<F>(
        settings: &HttpSettings,
        readiness: Readiness,
        configure: F,
    ) -> anyhow::Result<Self>
    where
        F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
    {
        let listener = TcpListener::bind((settings.host.as_str(), settings.port))
            .with_context(|| format!("binding {}:{}", settings.host, settings.port))?;
        let port = listener.local_addr()?.port();
        // Before any request, so the first requests are counted too.
        health::install_recorder();
        let endpoints = health::configure(readiness);
        let server = HttpServer::new(move || {
            // The last `wrap` runs first: the ids exist before the request span.
            App::new()
                // Innermost: a known path with an unknown method answers 405 + `Allow`
                // (services register each path as one resource), as a problem like every
                // other error.
                .wrap(
                    ErrorHandlers::new()
                        .handler(StatusCode::METHOD_NOT_ALLOWED, problem::method_not_allowed),
                )
                .wrap(from_fn(request_log::middleware))
                .wrap(from_fn(request_id::middleware))
                .wrap(from_fn(correlation::middleware))
                .app_data(problem::json_config(JSON_LIMIT_BYTES))
                .app_data(problem::path_config())
                .app_data(problem::query_config())
                .configure(endpoints.clone())
                .configure(configure.clone())
                .default_service(web::to(problem::route_not_found))
        })
        .listen(listener)?
        // Shutdown is the caller's future (see `run_until_stopped`), not actix's own handlers.
        .disable_signals()
        .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
        .run();
        Ok(Self { port, server })
    }

    /// The port actually bound (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves and runs `workers` until `shutdown` completes; then stops the server
    /// (draining in-flight requests) and the workers.
    pub async fn run_until_stopped_with(
        self,
        shutdown: impl Future<Output = ()>,
        workers: Workers,
    ) -> anyhow::Result<()> {
        let served = self.run_until_stopped(shutdown).await;
        workers.stop().await;
        served
    }

    /// Serves until `shutdown` completes, then stops accepting and drains in-flight requests.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let handle = self.server.handle();
        let mut server = self.server;
        tokio::select! {
            result = &mut server => result?,
            () = shutdown => {
                tracing::info!("shutdown requested; draining in-flight requests");
                // The server future must keep being polled while it stops: it is
                // the one processing the stop command.
                let (_, served) = tokio::join!(handle.stop(true), server);
                served?;
            }
        }
        tracing::info!("server stopped");
        Ok(())
    }
}
