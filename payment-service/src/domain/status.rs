//! The payment status machine: every status change of a payment goes through
//! [`transition`].
//!
//! ```text
//! CREATING ──session created──▶ PENDING ──captured──▶ SUCCEEDED ──order cancelled──▶ REFUNDING ──refunded──▶ REFUNDED
//!    │                             │ └──declined──▶ FAILED                                ▲
//!    └────────order cancelled──────┴──────────────▶ VOIDED ──captured all the same────────┘
//! (no payment yet) ──order cancelled──▶ CANCELLED (tombstone) ──captured──▶ REFUNDING
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum PaymentStatus {
    /// Stored from `payment.requested`; the provider's checkout session is not created yet.
    Creating,
    /// The checkout session is open: the customer may pay.
    Pending,
    /// The charge was captured (`payment.succeeded` published).
    Succeeded,
    /// The charge failed (`payment.failed` published).
    Failed,
    /// The order was cancelled before it was paid: the session is (being) voided.
    Voided,
    /// A tombstone: the order was cancelled before its `payment.requested` arrived, so
    /// a late request creates nothing.
    Cancelled,
    /// A captured charge of a cancelled order is being refunded.
    Refunding,
    /// The captured charge was refunded (`payment.refunded` published).
    Refunded,
}

impl PaymentStatus {
    /// Every status, in the order of the machine.
    pub const ALL: [Self; 8] = [
        Self::Creating,
        Self::Pending,
        Self::Succeeded,
        Self::Failed,
        Self::Voided,
        Self::Cancelled,
        Self::Refunding,
        Self::Refunded,
    ];

    /// The status as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "CREATING",
            Self::Pending => "PENDING",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::Voided => "VOIDED",
            Self::Cancelled => "CANCELLED",
            Self::Refunding => "REFUNDING",
            Self::Refunded => "REFUNDED",
        }
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PaymentStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| format!("unknown payment status {s:?}"))
    }
}

/// What happens to a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentEvent {
    /// The provider created (or, on a replayed call, returned) the checkout session.
    SessionCreated,
    /// A signed `checkout.session.completed`: the provider captured the charge.
    Captured,
    /// A signed `checkout.session.payment_failed`: the charge failed.
    Declined,
    /// The provider refused to create the session (it can never be paid).
    SessionRefused,
    /// `order.cancelled`: the order will not be paid (cancelled, expired, failed).
    OrderCancelled,
    /// The provider answered the refund call: the money went back.
    RefundSucceeded,
}

/// The outcome of an allowed event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// The payment moves to this status.
    Move(PaymentStatus),
    /// The payment stays as it is (a late, repeated or overtaken event).
    Stay,
}

/// An event the payment's status does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {from} payment cannot take {event:?}")]
pub struct InvalidTransition {
    /// The payment's status.
    pub from: PaymentStatus,
    /// The refused event.
    pub event: PaymentEvent,
}

/// The one place that decides a payment's next status.
///
/// The rules that matter for money:
/// - a capture is never lost: on a payment whose order no longer wants it (VOIDED,
///   the CANCELLED tombstone, or FAILED, which cancelled the order) it leads to
///   REFUNDING, never to SUCCEEDED, so the order is not revived;
/// - a decline after a capture changes nothing (the charge stands);
/// - a cancel of a captured payment refunds it; of an unpaid one voids the session;
/// - only a REFUNDING payment is marked REFUNDED, so there is one refund at most.
pub fn transition(from: PaymentStatus, event: PaymentEvent) -> Result<Next, InvalidTransition> {
    use PaymentEvent::*;
    use PaymentStatus::*;
    let next = match (from, event) {
        (Creating, SessionCreated) => Next::Move(Pending),
        (_, SessionCreated) => Next::Stay,

        // A capture before our side recorded the session (its URL was never
        // published) still is the customer's money for this order.
        (Creating | Pending, Captured) => Next::Move(Succeeded),
        (Voided | Cancelled | Failed, Captured) => Next::Move(Refunding),
        (Succeeded | Refunding | Refunded, Captured) => Next::Stay,

        (Creating | Pending, Declined) => Next::Move(Failed),
        (Failed | Succeeded | Voided | Cancelled | Refunding | Refunded, Declined) => Next::Stay,

        (Creating, SessionRefused) => Next::Move(Failed),
        (_, SessionRefused) => Next::Stay,

        (Creating | Pending, OrderCancelled) => Next::Move(Voided),
        (Succeeded, OrderCancelled) => Next::Move(Refunding),
        (Failed | Voided | Cancelled | Refunding | Refunded, OrderCancelled) => Next::Stay,

        (Refunding, RefundSucceeded) => Next::Move(Refunded),
        (Refunded, RefundSucceeded) => Next::Stay,
        (Creating | Pending | Succeeded | Failed | Voided | Cancelled, RefundSucceeded) => {
            return Err(InvalidTransition { from, event })
        }
    };
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::PaymentEvent::*;
    use super::PaymentStatus::*;
    use super::*;

    #[test]
    fn a_payment_is_created_then_pending_then_captured_or_declined() {
        assert_eq!(
            transition(Creating, SessionCreated),
            Ok(Next::Move(Pending))
        );
        assert_eq!(transition(Pending, Captured), Ok(Next::Move(Succeeded)));
        assert_eq!(transition(Pending, Declined), Ok(Next::Move(Failed)));
    }

    #[test]
    fn a_session_answer_after_the_payment_moved_on_changes_nothing() {
        for from in PaymentStatus::ALL.into_iter().filter(|s| *s != Creating) {
            assert_eq!(transition(from, SessionCreated), Ok(Next::Stay), "{from}");
            assert_eq!(transition(from, SessionRefused), Ok(Next::Stay), "{from}");
        }
    }

    #[test]
    fn a_session_the_provider_refuses_fails_the_payment() {
        assert_eq!(transition(Creating, SessionRefused), Ok(Next::Move(Failed)));
    }

    #[test]
    fn a_capture_for_an_order_that_no_longer_wants_it_is_refunded_not_succeeded() {
        for from in [Voided, Cancelled, Failed] {
            assert_eq!(
                transition(from, Captured),
                Ok(Next::Move(Refunding)),
                "{from}"
            );
        }
    }

    #[test]
    fn a_repeated_capture_changes_nothing() {
        for from in [Succeeded, Refunding, Refunded] {
            assert_eq!(transition(from, Captured), Ok(Next::Stay), "{from}");
        }
    }

    #[test]
    fn a_decline_after_a_capture_changes_nothing() {
        for from in [Succeeded, Refunding, Refunded, Failed, Voided, Cancelled] {
            assert_eq!(transition(from, Declined), Ok(Next::Stay), "{from}");
        }
    }

    #[test]
    fn cancelling_an_unpaid_payment_voids_it_and_a_captured_one_is_refunded() {
        assert_eq!(transition(Creating, OrderCancelled), Ok(Next::Move(Voided)));
        assert_eq!(transition(Pending, OrderCancelled), Ok(Next::Move(Voided)));
        assert_eq!(
            transition(Succeeded, OrderCancelled),
            Ok(Next::Move(Refunding))
        );
        for from in [Failed, Voided, Cancelled, Refunding, Refunded] {
            assert_eq!(transition(from, OrderCancelled), Ok(Next::Stay), "{from}");
        }
    }

    #[test]
    fn only_a_refunding_payment_is_refunded_and_only_once() {
        assert_eq!(
            transition(Refunding, RefundSucceeded),
            Ok(Next::Move(Refunded))
        );
        assert_eq!(transition(Refunded, RefundSucceeded), Ok(Next::Stay));
        for from in [Creating, Pending, Succeeded, Failed, Voided, Cancelled] {
            assert!(transition(from, RefundSucceeded).is_err(), "{from}");
        }
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in PaymentStatus::ALL {
            assert_eq!(status.as_str().parse::<PaymentStatus>(), Ok(status));
        }
        assert!("PAID".parse::<PaymentStatus>().is_err());
    }
}
