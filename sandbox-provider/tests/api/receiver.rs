//! A webhook receiver for tests: a real HTTP server on port 0 that records every
//! delivery, answers 500 to the first `fail_first` of them, and may take its time
//! (counting how many it answers at once).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use sandbox_provider::signature;
use sandbox_provider::webhooks::Event;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The `Sandbox-Signature` header ("" when absent).
    pub signature: String,
    /// The raw body.
    pub body: Vec<u8>,
    /// What the receiver answered.
    pub status: u16,
}

impl Delivery {
    /// The body as an event.
    pub fn event(&self) -> Event {
        serde_json::from_slice(&self.body).expect("the body is an event")
    }
}

#[derive(Default)]
struct Log {
    deliveries: Mutex<Vec<Delivery>>,
    answered: AtomicUsize,
    fail_first: usize,
    /// How long each answer takes.
    hold: Duration,
    in_flight: AtomicUsize,
    most_at_once: AtomicUsize,
}

/// The running receiver.
pub struct Receiver {
    /// Where the sandbox should POST.
    pub url: String,
    log: Arc<Log>,
    server: actix_web::dev::ServerHandle,
}

impl Receiver {
    /// A receiver answering 2xx to every delivery.
    pub async fn start() -> Self {
        Self::failing_first(0).await
    }

    /// A receiver answering 500 to its first `fail_first` deliveries, 2xx afterwards.
    pub async fn failing_first(fail_first: usize) -> Self {
        Self::with(Log {
            fail_first,
            ..Log::default()
        })
        .await
    }

    /// A receiver taking `hold` to answer each delivery (2xx).
    pub async fn slow(hold: Duration) -> Self {
        Self::with(Log {
            hold,
            ..Log::default()
        })
        .await
    }

    /// The most deliveries it was answering at once.
    pub fn most_at_once(&self) -> usize {
        self.log.most_at_once.load(Ordering::SeqCst)
    }

    async fn with(log: Log) -> Self {
        let log = Arc::new(log);
        let data = web::Data::from(log.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/webhooks", web::post().to(receive))
        })
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", 0))
        .expect("the receiver binds");
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}/webhooks"),
            log,
            server: handle,
        }
    }

    /// Every delivery so far, in arrival order.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.log
            .deliveries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The events of the deliveries answered 2xx, in arrival order.
    pub fn accepted(&self) -> Vec<Event> {
        self.deliveries()
            .iter()
            .filter(|d| d.status < 300)
            .map(Delivery::event)
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        // Not awaited: the server ends with the test's runtime at the latest.
        drop(self.server.stop(false));
    }
}

async fn receive(req: HttpRequest, body: web::Bytes, log: web::Data<Log>) -> HttpResponse {
    let now = log.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    log.most_at_once.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(log.hold).await;
    log.in_flight.fetch_sub(1, Ordering::SeqCst);
    let n = log.answered.fetch_add(1, Ordering::SeqCst);
    let status = if n < log.fail_first { 500 } else { 204 };
    let signature = req
        .headers()
        .get(signature::HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    log.deliveries
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(Delivery {
            signature,
            body: body.to_vec(),
            status,
        });
    if status == 500 {
        HttpResponse::InternalServerError().finish()
    } else {
        HttpResponse::NoContent().finish()
    }
}
