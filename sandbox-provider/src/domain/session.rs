//! A checkout session and its state machine.
//!
//! ```text
//! open ──pay 4242──────────▶ paid ──refund──▶ refunded
//!  │ ├──pay 0002/9995──────▶ failed
//!  │ ├──pay 3220──▶ processing ──delay──▶ paid
//!  │ └──expires_at passes──▶ expired
//!  └──void (also from processing, expired)──▶ voided
//! ```
//! A session voided while `processing` keeps its pending charge: the charge is already
//! at the card network, so it still completes (the session stays `voided`, but it is
//! captured, sends `checkout.session.completed`, and can be refunded). That is the race
//! a real integration must survive: a payment reported after its order was given up.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Waiting for a card.
    Open,
    /// A card was accepted; the charge completes later.
    Processing,
    /// Charged.
    Paid,
    /// The card was refused; no charge.
    Failed,
    /// Given up by the merchant.
    Voided,
    /// Not paid before `expires_at`.
    Expired,
    /// Charged, then refunded.
    Refunded,
}

/// Why a card was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// The issuer declined.
    CardDeclined,
    /// Not enough money on the card.
    InsufficientFunds,
}

/// A validated request for a session; equal requests are replays of each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// Amount to charge, in cents (> 0).
    pub amount_cents: i64,
    /// ISO 4217 code, three upper-case letters.
    pub currency: String,
    /// The merchant's reference (payment-service's payment id).
    pub reference: String,
    /// When an unpaid session expires.
    pub expires_at: DateTime<Utc>,
}

/// A checkout session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// `cs_<uuid>`.
    pub id: String,
    /// Where it stands.
    pub status: Status,
    /// What was asked for.
    pub request: NewSession,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Why the card was refused (status `failed`).
    pub failure_reason: Option<FailureReason>,
    /// A charge is at the network and will complete (delayed card).
    charge_pending: bool,
    /// Money was taken (and not yet refunded, or refunded: see `status`).
    captured: bool,
}

/// What a payment attempt did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paid {
    /// Captured now: `checkout.session.completed`.
    Completed,
    /// Refused now: `checkout.session.payment_failed`.
    Failed(FailureReason),
    /// Accepted; [`Session::complete_charge`] captures it later.
    Processing,
}

/// Why a card cannot be entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PayError {
    /// `expires_at` has passed.
    #[error("the session expired")]
    Expired,
    /// The session is past taking a card.
    #[error("the session is {0:?}, not open")]
    NotOpen(Status),
}

/// Why a session cannot be voided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VoidError {
    /// It was charged: refund it instead.
    #[error("the session was paid; refund it instead")]
    Paid,
}

/// Why a session cannot be refunded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RefundError {
    /// Nothing was charged (yet).
    #[error("the session has no captured charge")]
    NotCaptured,
    /// It was refunded already (under another idempotency key).
    #[error("the session was refunded already")]
    AlreadyRefunded,
    /// The amount is not between 1 and the session's amount.
    #[error("the refund amount must be between 1 and the session's amount")]
    InvalidAmount,
}

impl Session {
    /// A new open session for `request`.
    pub fn open(request: NewSession, now: DateTime<Utc>) -> Self {
        Self {
            id: format!("cs_{}", uuid::Uuid::new_v4().simple()),
            status: Status::Open,
            request,
            created_at: now,
            failure_reason: None,
            charge_pending: false,
            captured: false,
        }
    }

    /// Marks an open session whose `expires_at` has passed as `expired`.
    pub fn expire_if_due(&mut self, now: DateTime<Utc>) {
        if self.status == Status::Open && now >= self.request.expires_at {
            self.status = Status::Expired;
        }
    }

    /// Enters a card with `outcome`.
    pub fn pay(
        &mut self,
        outcome: super::CardOutcome,
        now: DateTime<Utc>,
    ) -> Result<Paid, PayError> {
        use super::CardOutcome;
        self.expire_if_due(now);
        match self.status {
            Status::Open => {}
            Status::Expired => return Err(PayError::Expired),
            other => return Err(PayError::NotOpen(other)),
        }
        Ok(match outcome {
            CardOutcome::Succeeds => {
                self.status = Status::Paid;
                self.captured = true;
                Paid::Completed
            }
            CardOutcome::Fails(reason) => {
                self.status = Status::Failed;
                self.failure_reason = Some(reason);
                Paid::Failed(reason)
            }
            CardOutcome::SucceedsLater => {
                self.status = Status::Processing;
                self.charge_pending = true;
                Paid::Processing
            }
        })
    }

    /// Completes a pending charge, even if the session was voided meanwhile; true
    /// when there was one (then `checkout.session.completed` is due).
    pub fn complete_charge(&mut self) -> bool {
        if !self.charge_pending {
            return false;
        }
        self.charge_pending = false;
        self.captured = true;
        if self.status == Status::Processing {
            self.status = Status::Paid;
        }
        true
    }

    /// True once money was taken (whether refunded since or not).
    pub fn captured(&self) -> bool {
        self.captured
    }

    /// Voids: idempotent; a failed session stays failed; a paid one cannot be voided.
    pub fn void(&mut self, now: DateTime<Utc>) -> Result<(), VoidError> {
        self.expire_if_due(now);
        match self.status {
            Status::Open | Status::Processing | Status::Expired | Status::Voided => {
                self.status = Status::Voided;
                Ok(())
            }
            Status::Failed => Ok(()),
            Status::Paid | Status::Refunded => Err(VoidError::Paid),
        }
    }

    /// Refunds `amount_cents` of a captured session (paid, or voided then completed).
    pub fn refund(&mut self, amount_cents: i64) -> Result<(), RefundError> {
        if self.status == Status::Refunded {
            return Err(RefundError::AlreadyRefunded);
        }
        if !self.captured || !matches!(self.status, Status::Paid | Status::Voided) {
            return Err(RefundError::NotCaptured);
        }
        if !(1..=self.request.amount_cents).contains(&amount_cents) {
            return Err(RefundError::InvalidAmount);
        }
        self.status = Status::Refunded;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::CardOutcome;
    use chrono::Duration;

    fn session(now: DateTime<Utc>) -> Session {
        Session::open(
            NewSession {
                amount_cents: 1_000,
                currency: "EUR".to_owned(),
                reference: "payment".to_owned(),
                expires_at: now + Duration::minutes(15),
            },
            now,
        )
    }

    #[test]
    fn a_session_voided_while_processing_still_completes_and_can_be_refunded() {
        let now = Utc::now();
        let mut s = session(now);
        assert_eq!(s.pay(CardOutcome::SucceedsLater, now), Ok(Paid::Processing));
        assert_eq!(s.refund(1_000), Err(RefundError::NotCaptured));
        assert_eq!(s.void(now), Ok(()));
        assert!(s.complete_charge());
        assert!(!s.complete_charge());
        assert_eq!(s.status, Status::Voided);
        assert_eq!(s.refund(1_000), Ok(()));
        assert_eq!(s.status, Status::Refunded);
        assert_eq!(s.refund(1_000), Err(RefundError::AlreadyRefunded));
    }

    #[test]
    fn an_open_session_past_its_expiry_cannot_be_paid_but_can_be_voided() {
        let now = Utc::now();
        let mut s = session(now);
        let later = now + Duration::minutes(16);
        assert_eq!(s.pay(CardOutcome::Succeeds, later), Err(PayError::Expired));
        assert_eq!(s.status, Status::Expired);
        assert_eq!(s.void(later), Ok(()));
        assert_eq!(s.status, Status::Voided);
    }

    #[test]
    fn paid_sessions_refuse_void_and_failed_ones_stay_failed() {
        let now = Utc::now();
        let mut paid = session(now);
        assert_eq!(paid.pay(CardOutcome::Succeeds, now), Ok(Paid::Completed));
        assert_eq!(paid.void(now), Err(VoidError::Paid));
        assert_eq!(paid.refund(0), Err(RefundError::InvalidAmount));
        assert_eq!(paid.refund(1_001), Err(RefundError::InvalidAmount));
        let mut failed = session(now);
        let declined = CardOutcome::Fails(FailureReason::CardDeclined);
        assert_eq!(
            failed.pay(declined, now),
            Ok(Paid::Failed(FailureReason::CardDeclined))
        );
        assert_eq!(failed.void(now), Ok(()));
        assert_eq!(failed.status, Status::Failed);
        assert_eq!(failed.refund(1_000), Err(RefundError::NotCaptured));
        assert_eq!(
            failed.pay(CardOutcome::Succeeds, now),
            Err(PayError::NotOpen(Status::Failed))
        );
    }
}
