//! Start-up of order-service: migrations and pool, the stock-reply and payment
//! consumers, the deadline worker (stock requests, payments), then the HTTP server.

use std::future::Future;

use actix_web::web;
use comanda_kit::auth::JwtVerifier;
use comanda_kit::http::Server;
use comanda_kit::stalls::Stalls;
use comanda_kit::workers::Workers;
use comanda_outbox::deadline::DeadlineWorker;
use comanda_outbox::{topics, Inbox};

use crate::events::payment_created::RecordCheckout;
use crate::events::payment_deadline::{self, PaymentDeadline};
use crate::events::payment_failed::FailOrder;
use crate::events::payment_refunded::RecordRefund;
use crate::events::payment_succeeded::PayOrder;
use crate::events::stock_failed::RejectOrder;
use crate::events::stock_released::RecordRelease;
use crate::events::stock_request::{self, StockRequestDeadline};
use crate::events::stock_reserved::ConfirmOrder;
use crate::events::GROUP;
use crate::routes;
use crate::routes::orders::{create::Placing, OrderTopics};
use crate::settings::Settings;

/// order-service, built and bound, not yet serving.
pub struct Application {
    server: Server,
    workers: Workers,
}

impl Application {
    /// Migrates (outbox tables first), starts the inbox and binds.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let service = &settings.service;
        let migrations = vec![comanda_outbox::MIGRATIONS, crate::MIGRATIONS];
        let pool = comanda_kit::service::prepare(service, migrations).await?;
        let kafka = &service.kafka;
        // Workers post their stalls here; `/ready` reports them.
        let stalls = Stalls::new();
        let order_topics = OrderTopics {
            created_pending: kafka.topic(topics::ORDER_CREATED_PENDING),
            cancelled: kafka.topic(topics::ORDER_CANCELLED),
            payment_requested: kafka.topic(topics::PAYMENT_REQUESTED),
        };
        let cancelled_topic = order_topics.cancelled.clone();
        // Every handler locks only its own order's rows: the partitions can be applied
        // side by side (`comanda_outbox::inbox` lanes).
        let inbox = Inbox::for_service(kafka, GROUP, &stalls)
            .lanes(topics::PARTITIONS.unsigned_abs() as usize)
            .handle(
                &kafka.topic(topics::STOCK_RESERVED),
                ConfirmOrder {
                    topics: order_topics.clone(),
                    payment: settings.payment.clone(),
                },
            )
            .handle(&kafka.topic(topics::STOCK_FAILED), RejectOrder)
            .handle(&kafka.topic(topics::STOCK_RELEASED), RecordRelease)
            .handle(&kafka.topic(topics::PAYMENT_CREATED), RecordCheckout)
            .handle(
                &kafka.topic(topics::PAYMENT_SUCCEEDED),
                PayOrder {
                    cancelled_topic: cancelled_topic.clone(),
                },
            )
            .handle(
                &kafka.topic(topics::PAYMENT_FAILED),
                FailOrder {
                    cancelled_topic: cancelled_topic.clone(),
                },
            )
            .handle(&kafka.topic(topics::PAYMENT_REFUNDED), RecordRefund)
            .build(pool.clone())
            .await?;
        let mut workers = Workers::new();
        workers.spawn("inbox", move |token| async move {
            inbox.run(token.cancelled_owned()).await;
        });
        let verifier = web::Data::new(JwtVerifier::from_settings(&settings.auth, &service.env)?);
        let order_topics = web::Data::new(order_topics);
        let deadlines = DeadlineWorker::builder(pool.clone())
            .handle(
                stock_request::DEADLINE,
                StockRequestDeadline {
                    topics: order_topics.get_ref().clone(),
                    saga: settings.saga.clone(),
                },
            )
            .handle(
                payment_deadline::DEADLINE,
                PaymentDeadline { cancelled_topic },
            )
            .poll_interval(settings.saga.poll_interval())
            .stalls(stalls.clone())
            .build();
        workers.spawn("deadlines", move |token| async move {
            deadlines.run(token.cancelled_owned()).await;
        });
        let placing = web::Data::new(Placing::new(settings.saga.clone(), settings.orders.clone()));
        let server = comanda_kit::service::bind(service, pool, stalls, move |cfg| {
            cfg.app_data(verifier.clone())
                .app_data(order_topics.clone())
                .app_data(placing.clone());
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
