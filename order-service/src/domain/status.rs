//! The order status machine: every status change of an order goes through [`transition`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::reasons::CancellationReason;

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum OrderStatus {
    /// Waiting for product-service to reserve its stock.
    Pending,
    /// Stock reserved and priced; awaiting payment until its payment deadline.
    Confirmed,
    /// Paid: the payment for its total was captured.
    Paid,
    /// Stock could not be reserved (see the rejection reason).
    Rejected,
    /// Cancelled (see the cancellation reason): by its owner or an admin, or because
    /// its payment failed or did not match the total.
    Cancelled,
    /// Not paid before its payment deadline; its stock was given back.
    Expired,
}

impl OrderStatus {
    /// The statuses of an order that still holds stock without having been paid, and
    /// counts against `orders.max_open_per_user`: PENDING (stock being reserved) and
    /// CONFIRMED (awaiting payment). A PAID order is settled and no longer counts.
    pub const OPEN: [Self; 2] = [Self::Pending, Self::Confirmed];

    /// True for an [`Self::OPEN`] status.
    pub fn is_open(self) -> bool {
        Self::OPEN.contains(&self)
    }

    /// The status as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Confirmed => "CONFIRMED",
            Self::Paid => "PAID",
            Self::Rejected => "REJECTED",
            Self::Cancelled => "CANCELLED",
            Self::Expired => "EXPIRED",
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrderStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "PENDING" => Ok(Self::Pending),
            "CONFIRMED" => Ok(Self::Confirmed),
            "PAID" => Ok(Self::Paid),
            "REJECTED" => Ok(Self::Rejected),
            "CANCELLED" => Ok(Self::Cancelled),
            "EXPIRED" => Ok(Self::Expired),
            other => Err(format!("unknown order status {other:?}")),
        }
    }
}

/// What happens to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderEvent {
    /// product-service held every line.
    StockReserved,
    /// product-service could not hold every line.
    StockFailed,
    /// The owner or an admin asked to cancel.
    CancelRequested,
    /// The stock request went unanswered through every attempt (the saga deadline).
    StockRequestTimedOut,
    /// The stock was held, but the reserved prices make a total that does not fit.
    TotalOutOfRange,
    /// payment-service captured a payment of the order's total, in its currency.
    PaymentSucceeded,
    /// payment-service captured a payment whose amount or currency is not the
    /// order's total.
    PaymentAmountMismatch,
    /// payment-service reports the payment failed (declined, insufficient funds, …).
    PaymentFailed,
    /// The order was not paid by its payment deadline.
    PaymentTimedOut,
}

impl OrderEvent {
    /// Why an order that this event moves to CANCELLED or EXPIRED ended there; `None`
    /// for an event that never ends an order that way.
    pub fn cancellation_reason(self) -> Option<CancellationReason> {
        match self {
            Self::CancelRequested => Some(CancellationReason::Customer),
            Self::PaymentFailed => Some(CancellationReason::PaymentFailed),
            Self::PaymentAmountMismatch => Some(CancellationReason::AmountMismatch),
            Self::PaymentTimedOut => Some(CancellationReason::Expired),
            Self::StockReserved
            | Self::StockFailed
            | Self::StockRequestTimedOut
            | Self::TotalOutOfRange
            | Self::PaymentSucceeded => None,
        }
    }
}

/// The outcome of an allowed event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// The order moves to this status.
    Move(OrderStatus),
    /// The order stays as it is (a late or repeated reply).
    Stay,
}

/// An event the order's status does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {from} order cannot take {event:?}")]
pub struct InvalidTransition {
    /// The order's status.
    pub from: OrderStatus,
    /// The refused event.
    pub event: OrderEvent,
}

/// The one place that decides an order's next status.
///
/// A stock reply to a CANCELLED order changes nothing here: order-service has already
/// published `order.cancelled`, and product-service releases (or never makes) the
/// reservation when it sees it, whichever of the two events it gets first. The same
/// holds for a REJECTED order: one that timed out published `order.cancelled` too, so
/// a reservation that arrives late is released by it.
///
/// A timeout only decides a PENDING order; once the reply has been applied (or the
/// order cancelled) the deadline has nothing left to do.
///
/// Payment decides a CONFIRMED order only: PAID on success of the total, CANCELLED on
/// a failure or a mismatched amount, EXPIRED when its deadline passes first. A payment
/// outcome for an order that has left CONFIRMED changes nothing here (a failure after
/// a success included): payment-service refunds a charge captured for a cancelled or
/// expired order when it sees `order.cancelled`. A payment outcome for a PENDING order
/// contradicts the saga (payment is requested only once the stock is held) and is
/// refused. A PAID order can still be cancelled (stock released, payment refunded); an
/// EXPIRED one, like every other final one, cannot.
pub fn transition(from: OrderStatus, event: OrderEvent) -> Result<Next, InvalidTransition> {
    use OrderEvent::*;
    use OrderStatus::*;
    match (from, event) {
        (Pending, StockReserved) => Ok(Next::Move(Confirmed)),
        (Pending, StockFailed | StockRequestTimedOut | TotalOutOfRange) => Ok(Next::Move(Rejected)),
        (Pending | Confirmed | Paid, CancelRequested) => Ok(Next::Move(Cancelled)),
        (Confirmed, PaymentSucceeded) => Ok(Next::Move(Paid)),
        (Confirmed, PaymentFailed | PaymentAmountMismatch) => Ok(Next::Move(Cancelled)),
        (Confirmed, PaymentTimedOut) => Ok(Next::Move(Expired)),
        (Cancelled, StockReserved | StockFailed)
        | (Confirmed | Paid | Expired, StockReserved)
        | (Rejected, StockFailed | StockReserved)
        | (
            Confirmed | Paid | Rejected | Cancelled | Expired,
            StockRequestTimedOut | TotalOutOfRange,
        )
        | (Pending, PaymentTimedOut)
        | (
            Paid | Rejected | Cancelled | Expired,
            PaymentSucceeded | PaymentAmountMismatch | PaymentFailed | PaymentTimedOut,
        ) => Ok(Next::Stay),
        (Confirmed | Paid | Expired, StockFailed)
        | (Rejected | Cancelled | Expired, CancelRequested)
        | (Pending, PaymentSucceeded | PaymentAmountMismatch | PaymentFailed) => {
            Err(InvalidTransition { from, event })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::OrderEvent::*;
    use super::OrderStatus::*;
    use super::*;

    #[test]
    fn pending_and_unpaid_confirmed_orders_are_open_and_paid_or_final_ones_are_not() {
        assert!(Pending.is_open() && Confirmed.is_open());
        for settled in [Paid, Rejected, Cancelled, Expired] {
            assert!(!settled.is_open(), "{settled}");
        }
    }

    #[test]
    fn a_pending_order_is_confirmed_or_rejected_by_the_stock_reply() {
        assert_eq!(
            transition(Pending, StockReserved),
            Ok(Next::Move(Confirmed))
        );
        assert_eq!(transition(Pending, StockFailed), Ok(Next::Move(Rejected)));
    }

    #[test]
    fn pending_and_confirmed_orders_can_be_cancelled() {
        assert_eq!(
            transition(Pending, CancelRequested),
            Ok(Next::Move(Cancelled))
        );
        assert_eq!(
            transition(Confirmed, CancelRequested),
            Ok(Next::Move(Cancelled))
        );
    }

    #[test]
    fn rejected_cancelled_and_expired_orders_cannot_be_cancelled() {
        for from in [Rejected, Cancelled, Expired] {
            let error = transition(from, CancelRequested).expect_err("refused");
            assert_eq!(error.from, from);
        }
    }

    #[test]
    fn a_stock_reply_to_a_cancelled_order_changes_nothing() {
        assert_eq!(transition(Cancelled, StockReserved), Ok(Next::Stay));
        assert_eq!(transition(Cancelled, StockFailed), Ok(Next::Stay));
    }

    #[test]
    fn a_repeated_reply_changes_nothing_and_a_contradicting_one_is_refused() {
        assert_eq!(transition(Confirmed, StockReserved), Ok(Next::Stay));
        assert_eq!(transition(Rejected, StockFailed), Ok(Next::Stay));
        assert!(transition(Confirmed, StockFailed).is_err());
    }

    #[test]
    fn a_pending_order_whose_stock_request_timed_out_is_rejected() {
        assert_eq!(
            transition(Pending, StockRequestTimedOut),
            Ok(Next::Move(Rejected))
        );
    }

    #[test]
    fn a_pending_order_whose_total_is_out_of_range_is_rejected() {
        assert_eq!(
            transition(Pending, TotalOutOfRange),
            Ok(Next::Move(Rejected))
        );
        for from in [Confirmed, Paid, Rejected, Cancelled, Expired] {
            assert_eq!(transition(from, TotalOutOfRange), Ok(Next::Stay));
        }
    }

    #[test]
    fn a_timeout_after_the_order_was_decided_changes_nothing() {
        for from in [Confirmed, Paid, Rejected, Cancelled, Expired] {
            assert_eq!(transition(from, StockRequestTimedOut), Ok(Next::Stay));
        }
    }

    #[test]
    fn a_reservation_arriving_after_a_timeout_rejected_the_order_changes_nothing() {
        // The timeout published order.cancelled, which releases that reservation.
        assert_eq!(transition(Rejected, StockReserved), Ok(Next::Stay));
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in [Pending, Confirmed, Paid, Rejected, Cancelled, Expired] {
            assert_eq!(status.as_str().parse::<OrderStatus>(), Ok(status));
        }
        assert!("SHIPPED".parse::<OrderStatus>().is_err());
    }

    #[test]
    fn a_confirmed_order_is_paid_by_a_payment_of_its_total() {
        assert_eq!(
            transition(Confirmed, PaymentSucceeded),
            Ok(Next::Move(Paid))
        );
    }

    #[test]
    fn a_confirmed_order_is_cancelled_by_a_failed_or_mismatched_payment() {
        assert_eq!(
            transition(Confirmed, PaymentFailed),
            Ok(Next::Move(Cancelled))
        );
        assert_eq!(
            transition(Confirmed, PaymentAmountMismatch),
            Ok(Next::Move(Cancelled))
        );
    }

    #[test]
    fn a_confirmed_order_not_paid_by_its_deadline_expires() {
        assert_eq!(
            transition(Confirmed, PaymentTimedOut),
            Ok(Next::Move(Expired))
        );
    }

    #[test]
    fn a_failed_payment_after_the_order_was_paid_changes_nothing() {
        assert_eq!(transition(Paid, PaymentFailed), Ok(Next::Stay));
    }

    #[test]
    fn a_payment_outcome_or_deadline_after_the_order_left_confirmed_changes_nothing() {
        for from in [Paid, Rejected, Cancelled, Expired] {
            for event in [
                PaymentSucceeded,
                PaymentAmountMismatch,
                PaymentFailed,
                PaymentTimedOut,
            ] {
                assert_eq!(transition(from, event), Ok(Next::Stay), "{from} {event:?}");
            }
        }
    }

    #[test]
    fn a_payment_outcome_for_a_pending_order_is_refused_and_its_deadline_changes_nothing() {
        for event in [PaymentSucceeded, PaymentAmountMismatch, PaymentFailed] {
            let error = transition(Pending, event).expect_err("refused");
            assert_eq!(error.from, Pending);
        }
        assert_eq!(transition(Pending, PaymentTimedOut), Ok(Next::Stay));
    }

    #[test]
    fn a_paid_order_can_be_cancelled() {
        assert_eq!(transition(Paid, CancelRequested), Ok(Next::Move(Cancelled)));
    }

    #[test]
    fn a_repeated_reservation_of_a_paid_or_expired_order_changes_nothing_and_a_failure_is_refused()
    {
        for from in [Paid, Expired] {
            assert_eq!(transition(from, StockReserved), Ok(Next::Stay));
            assert!(transition(from, StockFailed).is_err());
        }
    }

    #[test]
    fn every_move_to_cancelled_or_expired_has_its_reason() {
        let statuses = [Pending, Confirmed, Paid, Rejected, Cancelled, Expired];
        let events = [
            StockReserved,
            StockFailed,
            CancelRequested,
            StockRequestTimedOut,
            TotalOutOfRange,
            PaymentSucceeded,
            PaymentAmountMismatch,
            PaymentFailed,
            PaymentTimedOut,
        ];
        for from in statuses {
            for event in events {
                if let Ok(Next::Move(to @ (Cancelled | Expired))) = transition(from, event) {
                    let reason = event.cancellation_reason();
                    assert!(reason.is_some(), "{from} {event:?} → {to}");
                    assert_eq!(
                        to == Expired,
                        reason == Some(CancellationReason::Expired),
                        "{from} {event:?}"
                    );
                }
            }
        }
        assert_eq!(
            CancelRequested.cancellation_reason(),
            Some(CancellationReason::Customer)
        );
        assert_eq!(
            PaymentFailed.cancellation_reason(),
            Some(CancellationReason::PaymentFailed)
        );
        assert_eq!(
            PaymentAmountMismatch.cancellation_reason(),
            Some(CancellationReason::AmountMismatch)
        );
    }
}
