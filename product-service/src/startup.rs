//! Start-up of product-service: migrations and pool, demo products in dev, the order
//! consumers, then the HTTP server.

use std::future::Future;

use actix_web::web;
use comanda_kit::auth::JwtVerifier;
use comanda_kit::http::Server;
use comanda_kit::stalls::Stalls;
use comanda_kit::workers::Workers;
use comanda_outbox::{topics, Inbox};

use crate::events::release::ReleaseStock;
use crate::events::reserve::ReserveStock;
use crate::events::GROUP;
use crate::routes::{self, products::CatalogTopics};
use crate::seed;
use crate::settings::Settings;

/// product-service, built and bound, not yet serving.
pub struct Application {
    server: Server,
    workers: Workers,
}

impl Application {
    /// Migrates (outbox tables first), seeds in dev, starts the inbox and binds.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let service = &settings.service;
        let migrations = vec![comanda_outbox::MIGRATIONS, crate::MIGRATIONS];
        let pool = comanda_kit::service::prepare(service, migrations).await?;
        let kafka = &service.kafka;
        let catalog = CatalogTopics {
            upserted: kafka.topic(topics::PRODUCT_UPSERTED),
            deleted: kafka.topic(topics::PRODUCT_DELETED),
        };
        if service.env == comanda_kit::settings::Env::Dev {
            let inserted = seed::demo_products(&pool, &catalog).await?;
            tracing::info!(inserted, "demo products seeded");
        }
        let reserve = ReserveStock {
            reserved_topic: kafka.topic(topics::STOCK_RESERVED),
            failed_topic: kafka.topic(topics::STOCK_FAILED),
        };
        let release = ReleaseStock {
            released_topic: kafka.topic(topics::STOCK_RELEASED),
        };
        // Workers post their stalls here; `/ready` reports them.
        let stalls = Stalls::new();
        let inbox = Inbox::for_service(kafka, GROUP, &stalls)
            .handle(&kafka.topic(topics::ORDER_CREATED_PENDING), reserve)
            .handle(&kafka.topic(topics::ORDER_CANCELLED), release)
            .build(pool.clone())
            .await?;
        let mut workers = Workers::new();
        workers.spawn("inbox", move |token| async move {
            inbox.run(token.cancelled_owned()).await;
        });
        let verifier = web::Data::new(JwtVerifier::from_settings(&settings.auth, &service.env)?);
        let catalog = web::Data::new(catalog);
        let server = comanda_kit::service::bind(service, pool, stalls, move |cfg| {
            cfg.app_data(verifier.clone()).app_data(catalog.clone());
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
