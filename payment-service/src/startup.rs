//! Start-up of payment-service: migrations and pool, the consumers of
//! `payment.requested` and `order.cancelled`, the deadline worker that calls the
//! provider, then the HTTP server.

use std::future::Future;
use std::sync::Arc;

use actix_web::web;
use comanda_kit::auth::JwtVerifier;
use comanda_kit::http::Server;
use comanda_kit::stalls::Stalls;
use comanda_kit::workers::Workers;
use comanda_outbox::deadline::DeadlineWorker;
use comanda_outbox::{topics, Inbox};

use crate::calls::create_session::CreateSession;
use crate::calls::refund::RefundPayment;
use crate::calls::void_session::VoidSession;
use crate::calls::{CREATE_SESSION, REFUND, VOID_SESSION};
use crate::events::order_cancelled::CancelPayment;
use crate::events::payment_requested::RecordRequest;
use crate::events::{PaymentTopics, GROUP};
use crate::provider::sandbox::SandboxProvider;
use crate::provider::PaymentProvider;
use crate::routes;
use crate::routes::webhooks::WebhookVerifier;
use crate::settings::Settings;

/// payment-service, built and bound, not yet serving.
pub struct Application {
    server: Server,
    workers: Workers,
}

impl Application {
    /// Checks the provider settings, migrates (outbox tables first), starts the inbox
    /// and the deadline worker, and binds.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let service = &settings.service;
        settings.provider.check(service.env)?;
        let provider: Arc<dyn PaymentProvider> = Arc::new(SandboxProvider::new(
            &settings.provider.base_url,
            settings.provider.request_timeout(),
        )?);
        let migrations = vec![comanda_outbox::MIGRATIONS, crate::MIGRATIONS];
        let pool = comanda_kit::service::prepare(service, migrations).await?;
        let kafka = &service.kafka;
        // Workers post their stalls here; `/ready` reports them.
        let stalls = Stalls::new();
        let inbox = Inbox::for_service(kafka, GROUP, &stalls)
            .handle(&kafka.topic(topics::PAYMENT_REQUESTED), RecordRequest)
            .handle(&kafka.topic(topics::ORDER_CANCELLED), CancelPayment)
            .build(pool.clone())
            .await?;
        let mut workers = Workers::new();
        workers.spawn("inbox", move |token| async move {
            inbox.run(token.cancelled_owned()).await;
        });
        let payment_topics = PaymentTopics::of(kafka);
        let deadlines = DeadlineWorker::builder(pool.clone())
            .handle(
                CREATE_SESSION,
                CreateSession {
                    provider: provider.clone(),
                    topics: payment_topics.clone(),
                },
            )
            .handle(
                VOID_SESSION,
                VoidSession {
                    provider: provider.clone(),
                },
            )
            .handle(
                REFUND,
                RefundPayment {
                    provider,
                    topics: payment_topics.clone(),
                },
            )
            .poll_interval(settings.saga.poll_interval())
            .stalls(stalls.clone())
            .build();
        workers.spawn("deadlines", move |token| async move {
            deadlines.run(token.cancelled_owned()).await;
        });
        let verifier = web::Data::new(JwtVerifier::from_settings(&settings.auth, &service.env)?);
        let webhooks = web::Data::new(WebhookVerifier::new(&settings.provider));
        let payment_topics = web::Data::new(payment_topics);
        let server = comanda_kit::service::bind(service, pool, stalls, move |cfg| {
            cfg.app_data(verifier.clone())
                .app_data(webhooks.clone())
                .app_data(payment_topics.clone());
            routes::configure(cfg);
        })?;
        Ok(Self { server, workers })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// Serves, consumes and calls the provider until `shutdown` completes, then drains.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        self.server
            .run_until_stopped_with(shutdown, self.workers)
            .await
    }
}
