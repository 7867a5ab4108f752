//! Builds and runs the relay process.

use std::future::Future;

use comanda_kit::db;
use comanda_kit::health::Readiness;
use comanda_kit::http::Server;
use comanda_kit::settings::DatabaseSettings;
use comanda_kit::workers::Workers;
use comanda_outbox::relay::{self, RelayConfig};

use crate::dlq_watch::{self, DlqWatch};
use crate::settings::Settings;

/// The relay process: an HTTP server for probes and metrics, its sources, and the
/// DLQ watcher behind the `dlq_*` gauges.
pub struct Application {
    server: Server,
    sources: Vec<RelayConfig>,
    dlq: DlqWatch,
}

impl Application {
    /// Binds the HTTP port; relaying starts in [`Application::run_until_stopped`].
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let mut readiness =
            Readiness::new().with_secured_kafka(&settings.kafka.brokers, settings.kafka.security());
        for (name, source) in &settings.sources {
            // One connection each, only for `/ready`: publishing uses its own session.
            let database = DatabaseSettings {
                url: source.url.clone(),
                pool_size: 1,
            };
            readiness =
                readiness.with_named_database(format!("source:{name}"), db::pool(&database)?);
        }
        let server = Server::bind(&settings.http, readiness, |_| {})?;
        let sources = settings.relay_configs();
        tracing::info!(
            port = server.port(),
            sources = ?sources.iter().map(|s| &s.source).collect::<Vec<_>>(),
            "outbox relay starting"
        );
        let dlq = settings.dlq_watch();
        Ok(Self {
            server,
            sources,
            dlq,
        })
    }

    /// The HTTP port bound.
    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// Relays every source until `shutdown` completes, then lets in-flight
    /// batches finish (their rows are marked or stay unpublished; none is lost).
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let mut workers = Workers::new();
        for config in self.sources {
            let name = format!("relay:{}", config.source);
            workers.spawn(name, move |token| relay::run(config, token));
        }
        let dlq = self.dlq;
        workers.spawn("dlq-watch", move |token| dlq_watch::run(dlq, token));
        self.server.run_until_stopped_with(shutdown, workers).await
    }
}
