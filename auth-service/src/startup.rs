//! Start-up of auth-service: migrations and pool, the admin account, the registration
//! answers' consumer, then the HTTP server.

use std::future::Future;
use std::time::Duration;

use actix_web::web;
use comanda_kit::http::Server;
use comanda_kit::stalls::Stalls;
use comanda_kit::workers::Workers;
use comanda_outbox::deadline::DeadlineWorker;
use comanda_outbox::{topics, Inbox};

use crate::bootstrap;
use crate::events::profile_request::{self, ProfileRequestDeadline};
use crate::events::registration_result::ApplyRegistrationResult;
use crate::events::GROUP;
use crate::hashing::Hashing;
use crate::routes::{self, accounts::PollTokenTtl, jwks::Jwks, register::RegistrationTopic};
use crate::settings::Settings;
use crate::tokens::Issuer;

/// auth-service, built and bound, not yet serving.
pub struct Application {
    server: Server,
    workers: Workers,
}

impl Application {
    /// Migrates (outbox tables first), bootstraps the admin, starts the inbox and binds.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let service = &settings.service;
        let (signer, verifier) = settings.auth.keys(service.env)?;
        let jwks = Jwks::from_public_pem(settings.auth.public_pem())?;
        let migrations = vec![comanda_outbox::MIGRATIONS, crate::MIGRATIONS];
        let pool = comanda_kit::service::prepare(service, migrations).await?;
        bootstrap::admin(&pool, &settings.admin, service.env).await?;
        let kafka = &service.kafka;
        // Workers post their stalls here; `/ready` reports them.
        let stalls = Stalls::new();
        let inbox = Inbox::for_service(kafka, GROUP, &stalls)
            .handle(
                &kafka.topic(topics::CREATING_USER_RESPONSE),
                ApplyRegistrationResult,
            )
            .build(pool.clone())
            .await?;
        let mut workers = Workers::new();
        workers.spawn("inbox", move |token| async move {
            inbox.run(token.cancelled_owned()).await;
        });
        let issuer = web::Data::new(Issuer {
            signer,
            access_ttl: Duration::from_secs(settings.auth.access_ttl_secs),
            refresh_ttl: Duration::from_secs(settings.auth.refresh_ttl_secs),
        });
        let verifier = web::Data::new(verifier);
        let topic = web::Data::new(RegistrationTopic(kafka.topic(topics::CREATING_USER)));
        let deadlines = DeadlineWorker::builder(pool.clone())
            .handle(
                profile_request::DEADLINE,
                ProfileRequestDeadline {
                    topic: topic.0.clone(),
                    saga: settings.saga.clone(),
                },
            )
            .poll_interval(settings.saga.poll_interval())
            .stalls(stalls.clone())
            .build();
        workers.spawn("deadlines", move |token| async move {
            deadlines.run(token.cancelled_owned()).await;
        });
        let saga = web::Data::new(settings.saga.clone());
        let hashing = web::Data::new(Hashing::new(&settings.hashing));
        let poll_ttl = web::Data::new(PollTokenTtl(Duration::from_secs(
            settings.auth.poll_token_ttl_secs,
        )));
        let jwks = web::Data::new(jwks);
        let server = comanda_kit::service::bind(service, pool, stalls, move |cfg| {
            cfg.app_data(verifier.clone())
                .app_data(issuer.clone())
                .app_data(topic.clone())
                .app_data(saga.clone())
                .app_data(poll_ttl.clone())
                .app_data(hashing.clone())
                .app_data(jwks.clone());
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
