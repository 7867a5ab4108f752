//! The processor: sessions, refunds and idempotency keys in memory, and the events
//! their changes send.
//!
//! One `Mutex` over plain maps: this is a test-mode processor, one process, a few
//! thousand sessions at most, and every operation is a map lookup and a state change
//! that never awaits while holding the lock. Holding it while an event is queued keeps
//! events in the order of the changes they report. Nothing survives a restart, and
//! nothing is ever deleted (a long-running sandbox grows by a few hundred bytes a
//! session).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::Utc;
use comanda_kit::workers::CancellationToken;
use serde::Serialize;

use crate::domain::{Card, NewSession, Paid, PayError, RefundError, Session, VoidError};
use crate::error::ApiError;
use crate::webhooks::{Event, EventType, Webhooks};

/// A refund, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refund {
    /// `re_<uuid>`.
    pub id: String,
    /// The refunded session.
    pub session_id: String,
    /// Refunded amount, in cents.
    pub amount_cents: i64,
    /// Always `succeeded`: sandbox refunds complete at once.
    pub status: &'static str,
}

/// A refund request; equal requests under one key are replays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefund {
    /// The session to refund.
    pub session_id: String,
    /// How much, in cents.
    pub amount_cents: i64,
}

/// Whether a call created something or replayed an earlier call's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// Made now (201).
    New,
    /// The same key and request as before: the earlier result (200).
    Replayed,
}

#[derive(Default)]
struct Store {
    sessions: HashMap<String, Session>,
    /// Idempotency key → (the request, the session it created).
    session_keys: HashMap<String, (NewSession, String)>,
    /// Idempotency key → (the request, the refund it made).
    refund_keys: HashMap<String, (NewRefund, Refund)>,
}

/// The sandbox's state and rules.
pub struct Processor {
    store: Mutex<Store>,
    webhooks: Webhooks,
    /// How long the delayed card stays `processing`.
    delayed_success: Duration,
    /// Where delayed charges run: the runtime that built the processor, not an HTTP
    /// worker's (which ends with the server).
    runtime: tokio::runtime::Handle,
    /// Stops pending delayed charges at shutdown.
    token: CancellationToken,
}

impl Processor {
    /// An empty processor; call inside the tokio runtime that should run its timers.
    pub fn new(webhooks: Webhooks, delayed_success: Duration, token: CancellationToken) -> Self {
        Self {
            store: Mutex::default(),
            webhooks,
            delayed_success,
            runtime: tokio::runtime::Handle::current(),
            token,
        }
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        // The store is valid after any panic (each change is one assignment).
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Creates a session, or returns the one `key` created for the same request.
    pub fn create_session(
        &self,
        key: String,
        request: NewSession,
    ) -> Result<(Session, Created), ApiError> {
        let now = Utc::now();
        let mut store = self.store();
        if let Some((earlier, id)) = store.session_keys.get(&key) {
            if *earlier != request {
                return Err(ApiError::IdempotencyKeyReused);
            }
            let id = id.clone();
            let session = store.session_mut(&id, now)?;
            return Ok((session.clone(), Created::Replayed));
        }
        let mut session = Session::open(request.clone(), now);
        // An `expires_at` already past makes a session born expired, never payable.
        session.expire_if_due(now);
        store
            .session_keys
            .insert(key, (request, session.id.clone()));
        store.sessions.insert(session.id.clone(), session.clone());
        tracing::info!(session_id = %session.id, "session created");
        Ok((session, Created::New))
    }

    /// The session `id` as it stands now.
    pub fn session(&self, id: &str) -> Result<Session, ApiError> {
        self.store().session_mut(id, Utc::now()).map(|s| s.clone())
    }

    /// Every session (of `reference`, when given) as it stands now, oldest first.
    pub fn sessions(&self, reference: Option<&str>) -> Vec<Session> {
        let now = Utc::now();
        let mut store = self.store();
        let mut sessions: Vec<Session> = store
            .sessions
            .values_mut()
            .filter(|s| reference.is_none_or(|r| s.request.reference == r))
            .map(|s| {
                s.expire_if_due(now);
                s.clone()
            })
            .collect();
        sessions.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        sessions
    }

    /// Voids session `id` (see [`Session::void`]).
    pub fn void(&self, id: &str) -> Result<Session, ApiError> {
        let now = Utc::now();
        let mut store = self.store();
        let session = store.session_mut(id, now)?;
        session
            .void(now)
            .map_err(|VoidError::Paid| ApiError::SessionPaid)?;
        Ok(session.clone())
    }

    /// Enters `card` on session `id`; sends the event its outcome calls for.
    pub fn pay(self: &Arc<Self>, id: &str, card: &str) -> Result<Session, ApiError> {
        let card = Card::parse(card).ok_or(ApiError::InvalidCard)?;
        let outcome = card.outcome().ok_or(ApiError::UnknownCard)?;
        let now = Utc::now();
        let mut store = self.store();
        let session = store.session_mut(id, now)?;
        let paid = session.pay(outcome, now).map_err(|e| match e {
            PayError::Expired => ApiError::SessionExpired,
            PayError::NotOpen(status) => ApiError::SessionNotOpen(status),
        })?;
        match paid {
            Paid::Completed => self
                .webhooks
                .send(&Event::new(EventType::Completed, session, now)),
            Paid::Failed(reason) => {
                let mut event = Event::new(EventType::PaymentFailed, session, now);
                event.data.failure_reason = Some(reason);
                self.webhooks.send(&event);
            }
            Paid::Processing => self.complete_later(id.to_owned()),
        }
        tracing::info!(session_id = id, status = ?session.status, "card entered");
        Ok(session.clone())
    }

    /// Completes session `id`'s pending charge after the delay.
    fn complete_later(self: &Arc<Self>, id: String) {
        let processor = self.clone();
        self.runtime.spawn(async move {
            tokio::select! {
                () = processor.token.cancelled() => {}
                () = tokio::time::sleep(processor.delayed_success) => processor.complete(&id),
            }
        });
    }

    /// Completes session `id`'s pending charge now, voided or not (the charge is
    /// already at the network), and sends `checkout.session.completed`.
    pub fn complete(&self, id: &str) {
        let now = Utc::now();
        let mut store = self.store();
        let Ok(session) = store.session_mut(id, now) else {
            return;
        };
        if session.complete_charge() {
            tracing::info!(session_id = id, status = ?session.status, "delayed charge completed");
            self.webhooks
                .send(&Event::new(EventType::Completed, session, now));
        }
    }

    /// Refunds a captured session, or returns the refund `key` made for the same request.
    pub fn refund(&self, key: String, request: NewRefund) -> Result<(Refund, Created), ApiError> {
        let now = Utc::now();
        let mut store = self.store();
        if let Some((earlier, refund)) = store.refund_keys.get(&key) {
            if *earlier != request {
                return Err(ApiError::IdempotencyKeyReused);
            }
            return Ok((refund.clone(), Created::Replayed));
        }
        let session = store.session_mut(&request.session_id, now)?;
        session.refund(request.amount_cents).map_err(|e| match e {
            RefundError::NotCaptured => ApiError::NotCaptured,
            RefundError::AlreadyRefunded => ApiError::AlreadyRefunded,
            RefundError::InvalidAmount => ApiError::InvalidAmount,
        })?;
        let refund = Refund {
            id: format!("re_{}", uuid::Uuid::new_v4().simple()),
            session_id: session.id.clone(),
            amount_cents: request.amount_cents,
            status: "succeeded",
        };
        let mut event = Event::new(EventType::Refunded, session, now);
        event.data.amount_cents = refund.amount_cents;
        event.data.refund_id = Some(refund.id.clone());
        self.webhooks.send(&event);
        tracing::info!(session_id = %session.id, refund_id = %refund.id, "refunded");
        store.refund_keys.insert(key, (request, refund.clone()));
        Ok((refund, Created::New))
    }
}

impl Store {
    /// Session `id`, expired first if its time has come.
    fn session_mut(
        &mut self,
        id: &str,
        now: chrono::DateTime<Utc>,
    ) -> Result<&mut Session, ApiError> {
        let session = self
            .sessions
            .get_mut(id)
            .ok_or_else(|| ApiError::NoSuchSession(id.to_owned()))?;
        session.expire_if_due(now);
        Ok(session)
    }
}
