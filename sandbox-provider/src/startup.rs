//! Start-up of the sandbox: the webhook dispatcher, the processor, the HTTP server.
//! No database and no broker: `/ready` has nothing to check.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use comanda_kit::health::Readiness;
use comanda_kit::http::Server;
use comanda_kit::workers::{CancellationToken, Workers};

use crate::processor::Processor;
use crate::routes::{self, PublicUrl};
use crate::settings::Settings;
use crate::webhooks::Webhooks;

/// The sandbox, built and bound, not yet serving.
pub struct Application {
    server: Server,
    workers: Workers,
    processor: Arc<Processor>,
}

impl Application {
    /// Starts the dispatcher and binds; must be called inside a tokio runtime.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let (webhooks, dispatcher) = Webhooks::new(&settings.webhook)?;
        let mut workers = Workers::new();
        // The dispatcher's token also stops the delayed charges still pending.
        let mut token = CancellationToken::new();
        workers.spawn("webhooks", |t| {
            token = t.clone();
            dispatcher.run(t)
        });
        let delayed = Duration::from_millis(settings.delayed_success_ms);
        let processor = Arc::new(Processor::new(webhooks, delayed, token));
        let data = web::Data::from(processor.clone());
        // Known once the port is bound; requests read it, so it is shared, not copied.
        let public_url = PublicUrl::default();
        let url = web::Data::new(public_url.clone());
        let server = Server::bind(&settings.http, Readiness::new(), move |cfg| {
            cfg.app_data(data.clone()).app_data(url.clone());
            routes::configure(cfg);
        })?;
        public_url.set(if settings.public_url.is_empty() {
            let host = match settings.http.host.as_str() {
                "0.0.0.0" | "::" | "[::]" => "127.0.0.1",
                host => host,
            };
            format!("http://{host}:{}", server.port())
        } else {
            settings.public_url.trim_end_matches('/').to_owned()
        });
        tracing::info!(port = server.port(), env = %settings.env, "listening");
        Ok(Self {
            server,
            workers,
            processor,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// The processor behind the API (tests complete delayed charges through it).
    pub fn processor(&self) -> Arc<Processor> {
        self.processor.clone()
    }

    /// Serves until `shutdown` completes, then drains requests and stops the dispatcher.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        self.server
            .run_until_stopped_with(shutdown, self.workers)
            .await
    }
}
