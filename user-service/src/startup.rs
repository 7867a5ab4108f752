//! Start-up of user-service: migrations and pool, the `creating.user` consumer, then
//! the HTTP server.

use std::future::Future;

use actix_web::web;
use comanda_kit::auth::JwtVerifier;
use comanda_kit::http::Server;
use comanda_kit::stalls::Stalls;
use comanda_kit::workers::Workers;
use comanda_outbox::{topics, Inbox};

use crate::events::create_profile::CreateProfile;
use crate::events::GROUP;
use crate::routes;
use crate::settings::Settings;

/// user-service, built and bound, not yet serving.
pub struct Application {
    server: Server,
    workers: Workers,
}

impl Application {
    /// Migrates (outbox tables first), starts the inbox and binds.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let service = &settings.service;
        let verifier = web::Data::new(JwtVerifier::from_settings(&settings.auth, &service.env)?);
        let migrations = vec![comanda_outbox::MIGRATIONS, crate::MIGRATIONS];
        let pool = comanda_kit::service::prepare(service, migrations).await?;
        let kafka = &service.kafka;
        let create_profile = CreateProfile {
            response_topic: kafka.topic(topics::CREATING_USER_RESPONSE),
        };
        // Workers post their stalls here; `/ready` reports them.
        let stalls = Stalls::new();
        let inbox = Inbox::for_service(kafka, GROUP, &stalls)
            .handle(&kafka.topic(topics::CREATING_USER), create_profile)
            .build(pool.clone())
            .await?;
        let mut workers = Workers::new();
        workers.spawn("inbox", move |token| async move {
            inbox.run(token.cancelled_owned()).await;
        });
        let server = comanda_kit::service::bind(service, pool, stalls, move |cfg| {
            cfg.app_data(verifier.clone());
            routes::configure(cfg);
        })?;
        Ok(Self { server, workers })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// Serves and consumes until `shutdown` completes, then drains both.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        self.server
            .run_until_stopped_with(shutdown, self.workers)
            .await
    }
}
