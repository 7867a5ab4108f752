//! Delivery: an in-memory queue and one dispatcher task that POSTs each event, signed,
//! and retries it with backoff until the receiver answers 2xx.
//!
//! The dispatcher STARTS every event's first attempt in queue order (so the
//! out-of-order knob reverses what the receiver sees; exactly so with
//! `webhook.concurrency = 1`), with up to `webhook.concurrency` events in flight at once,
//! as a card processor delivers to a busy receiver; an event whose attempt fails is
//! handed to a retry task of its own, so one unreachable receiver or one refused event
//! never holds the others back. One event at a time (before) capped the whole
//! provider at the receiver's latency: in the long chaos run, once customers paid
//! ~14 times a second, events waited up to two minutes in this queue and orders paid
//! in time expired. The queue and the retries live in
//! memory: a restarted sandbox forgets undelivered events, as its sessions.
//!
//! Every attempt is signed afresh with the current time: a receiver that refuses stale
//! timestamps still accepts an event retried long after it happened.

use std::sync::Arc;
use std::time::Duration;

use comanda_kit::workers::CancellationToken;
use secrecy::ExposeSecret;
use tokio::sync::{mpsc, Semaphore};
use tokio::time::Instant;

use super::Event;
use crate::settings::WebhookSettings;
use crate::signature;

/// One event waiting for its first attempt.
struct Queued {
    id: String,
    body: Arc<Vec<u8>>,
    /// Not sent before this (`webhook.delay_ms` after it was queued).
    due: Instant,
}

/// The sending side of the queue; cheap to clone.
#[derive(Clone)]
pub struct Webhooks {
    queue: mpsc::UnboundedSender<Queued>,
    delay: Duration,
    enabled: bool,
}

/// The task that delivers what [`Webhooks::send`] queues.
pub struct Dispatcher {
    queue: mpsc::UnboundedReceiver<Queued>,
    sender: Sender,
}

/// Makes attempts: the receiver, the secrets, the HTTP client.
#[derive(Clone)]
struct Sender {
    settings: Arc<WebhookSettings>,
    client: reqwest::Client,
}

impl Webhooks {
    /// The queue and its dispatcher (spawn [`Dispatcher::run`]).
    pub fn new(settings: &WebhookSettings) -> anyhow::Result<(Self, Dispatcher)> {
        let (tx, rx) = mpsc::unbounded_channel();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms))
            .user_agent("comanda-sandbox-provider")
            .build()?;
        let webhooks = Self {
            queue: tx,
            delay: Duration::from_millis(settings.delay_ms),
            enabled: !settings.url.is_empty(),
        };
        let sender = Sender {
            settings: Arc::new(settings.clone()),
            client,
        };
        Ok((webhooks, Dispatcher { queue: rx, sender }))
    }

    /// Queues `event` for delivery. Never blocks: handlers call it under the store's lock.
    pub fn send(&self, event: &Event) {
        metrics::counter!("sandbox_webhook_events_total").increment(1);
        if !self.enabled {
            tracing::info!(event_id = %event.id, "no webhook.url: event dropped");
            return;
        }
        let body = match serde_json::to_vec(event) {
            Ok(body) => body,
            Err(error) => {
                tracing::error!(%error, "event does not serialize");
                return;
            }
        };
        let queued = Queued {
            id: event.id.clone(),
            body: Arc::new(body),
            due: Instant::now() + self.delay,
        };
        if self.queue.send(queued).is_err() {
            tracing::warn!(event_id = %event.id, "dispatcher stopped: event dropped");
        }
    }
}

impl Dispatcher {
    /// Delivers queued events until `token` is cancelled.
    pub async fn run(mut self, token: CancellationToken) {
        let settings = self.sender.settings.clone();
        let in_flight = Arc::new(Semaphore::new(settings.concurrency.max(1)));
        while let Some(first) = next(&mut self.queue, &token).await {
            let mut batch = vec![first];
            if settings.out_of_order {
                let window = Duration::from_millis(settings.batch_window_ms);
                collect(&mut self.queue, &mut batch, Instant::now() + window, &token).await;
                batch.reverse();
            }
            for event in batch {
                tokio::select! {
                    () = token.cancelled() => return,
                    () = tokio::time::sleep_until(event.due) => {}
                }
                let permit = tokio::select! {
                    () = token.cancelled() => return,
                    permit = Arc::clone(&in_flight).acquire_owned() => match permit {
                        Ok(permit) => permit,
                        Err(_closed) => return,
                    },
                };
                let copies = if settings.duplicate { 2 } else { 1 };
                let (sender, token) = (self.sender.clone(), token.clone());
                tokio::spawn(async move {
                    let _in_flight = permit;
                    for _ in 0..copies {
                        if !sender.attempt(&event.id, &event.body).await {
                            let (id, body) = (event.id.clone(), event.body.clone());
                            tokio::spawn(sender.clone().retry(id, body, token.clone()));
                        }
                    }
                });
            }
        }
    }
}

/// The next queued event, or `None` at shutdown.
async fn next(
    queue: &mut mpsc::UnboundedReceiver<Queued>,
    token: &CancellationToken,
) -> Option<Queued> {
    tokio::select! {
        () = token.cancelled() => None,
        queued = queue.recv() => queued,
    }
}

/// Adds to `batch` what is queued until `until`.
async fn collect(
    queue: &mut mpsc::UnboundedReceiver<Queued>,
    batch: &mut Vec<Queued>,
    until: Instant,
    token: &CancellationToken,
) {
    loop {
        tokio::select! {
            () = token.cancelled() => return,
            () = tokio::time::sleep_until(until) => return,
            queued = queue.recv() => match queued {
                Some(queued) => batch.push(queued),
                None => return,
            },
        }
    }
}

impl Sender {
    /// Retries with backoff until a 2xx or shutdown.
    async fn retry(self, id: String, body: Arc<Vec<u8>>, token: CancellationToken) {
        for retry in 0u32.. {
            tokio::select! {
                () = token.cancelled() => return,
                () = tokio::time::sleep(self.settings.backoff(retry)) => {}
            }
            if self.attempt(&id, &body).await {
                return;
            }
        }
    }

    /// One signed POST; true when the receiver answered 2xx.
    async fn attempt(&self, id: &str, body: &[u8]) -> bool {
        let secrets: Vec<&str> = self
            .settings
            .secrets
            .iter()
            .map(|s| s.expose_secret())
            .collect();
        let header = signature::sign_header(&secrets, chrono::Utc::now().timestamp(), body);
        let sent = self
            .client
            .post(&self.settings.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(signature::HEADER, header)
            .body(body.to_vec())
            .send()
            .await;
        let outcome = match &sent {
            Ok(response) if response.status().is_success() => "delivered",
            Ok(_) => "refused",
            Err(_) => "unreachable",
        };
        metrics::counter!("sandbox_webhook_attempts_total", "outcome" => outcome).increment(1);
        match sent {
            Ok(response) if response.status().is_success() => {
                tracing::info!(event_id = id, status = %response.status(), "webhook delivered");
                true
            }
            Ok(response) => {
                tracing::warn!(event_id = id, status = %response.status(), "webhook refused; will retry");
                false
            }
            Err(error) => {
                tracing::warn!(event_id = id, %error, "webhook not delivered; will retry");
                false
            }
        }
    }
}
