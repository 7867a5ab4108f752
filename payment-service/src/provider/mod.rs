//! The payment provider, behind one trait.
//!
//! payment-service talks to a card processor through [`PaymentProvider`]: create a
//! checkout session, void it, refund a captured charge. [`sandbox::SandboxProvider`]
//! is the HTTP adapter of the sandbox (`sandbox-provider`, a processor's test mode);
//! a real processor would be a second adapter of the same trait, plus its own
//! webhook route and [`signature`] scheme. Nothing else in the service knows which
//! provider it talks to.
//!
//! Every call carries an idempotency key (the payment id; `refund-<payment id>` for
//! the refund), so a call retried after a timeout or a crash is answered with the
//! first result and never charges or refunds twice.
//!
//! - [`sandbox`]: the HTTP adapter.
//! - [`signature`]: the `Sandbox-Signature` header: HMAC-SHA256, checked in constant time.
//! - [`webhook`]: the webhook events the provider sends.

pub mod sandbox;
pub mod signature;
pub mod webhook;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a checkout session is asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewSession {
    /// The charge, in cents.
    pub amount_cents: i64,
    /// Its currency (ISO 4217).
    pub currency: String,
    /// Our reference: the payment id (it comes back in every webhook).
    pub reference: String,
    /// When the session stops taking payments: the order's payment deadline.
    pub expires_at: DateTime<Utc>,
}

/// A checkout session as the provider describes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Session {
    /// The provider's id of the session.
    pub id: String,
    /// `open`, `processing`, `paid`, `failed`, `voided`, `expired` or `refunded`.
    pub status: String,
    /// Where the customer pays.
    pub checkout_url: String,
    /// When it stops taking payments.
    pub expires_at: DateTime<Utc>,
}

/// A refund as the provider describes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Refund {
    /// The provider's id of the refund.
    pub id: String,
    /// The refunded cents.
    pub amount_cents: i64,
}

/// Why a provider call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The provider could not be reached, timed out, or failed on its side (5xx, 408,
    /// 429): the call may succeed later and is retried with the same key.
    #[error("the provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider refused the request (a 4xx with a problem `code`): the same call
    /// will be refused again.
    #[error("the provider refused the call ({status} {code}): {detail}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The provider's stable problem code, e.g. `session_paid`.
        code: String,
        /// Its explanation.
        detail: String,
    },
}

impl ProviderError {
    /// The provider's problem code when it refused the call.
    pub fn refusal_code(&self) -> Option<&str> {
        match self {
            Self::Refused { code, .. } => Some(code),
            Self::Unavailable(_) => None,
        }
    }
}

/// A payment provider: the calls payment-service makes to it.
///
/// Implementations must be idempotent on `key`: the same key answers the first
/// result again, whatever happened to the first answer on the way back.
#[async_trait]
pub trait PaymentProvider: Send + Sync + 'static {
    /// Creates (or, for a key used before, returns) the checkout session of a payment.
    async fn create_session(
        &self,
        key: &str,
        session: &NewSession,
    ) -> Result<Session, ProviderError>;

    /// Voids session `session_id`, so it takes no payment any more. Voiding twice is
    /// fine; a session already paid is refused with code `session_paid`.
    async fn void_session(&self, session_id: &str) -> Result<Session, ProviderError>;

    /// Refunds `amount_cents` of the charge captured on session `session_id`.
    async fn refund(
        &self,
        key: &str,
        session_id: &str,
        amount_cents: i64,
    ) -> Result<Refund, ProviderError>;
}
