//! The order status machine: every status change of an order goes through [`transition`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum OrderStatus {
    /// Waiting for product-service to reserve its stock.
    Pending,
    /// Stock reserved; priced.
    Confirmed,
    /// Stock could not be reserved.
    Rejected,
    /// Cancelled by its owner or an admin.
    Cancelled,
}

impl OrderStatus {
    /// The statuses of an order that still holds stock and counts against
    /// `orders.max_open_per_user`: PENDING (stock being reserved) and CONFIRMED.
    /// There is no payment step yet, so a CONFIRMED order is open and unpaid until it
    /// is cancelled; once payment exists, a paid order leaves this list.
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
            Self::Rejected => "REJECTED",
            Self::Cancelled => "CANCELLED",
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
            "REJECTED" => Ok(Self::Rejected),
            "CANCELLED" => Ok(Self::Cancelled),
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
}

/// Why an order was REJECTED.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RejectionReason {
    /// product-service could not hold every line (see the shortfalls).
    InsufficientStock,
    /// No stock reply came after `saga.max_attempts` requests.
    Timeout,
    /// The reserved prices make a total beyond an `i64` of cents (a price stored
    /// before prices were bounded); the held stock is given back.
    TotalOutOfRange,
}

impl RejectionReason {
    /// The reason as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InsufficientStock => "insufficient_stock",
            Self::Timeout => "timeout",
            Self::TotalOutOfRange => "total_out_of_range",
        }
    }
}

impl FromStr for RejectionReason {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "insufficient_stock" => Ok(Self::InsufficientStock),
            "timeout" => Ok(Self::Timeout),
            "total_out_of_range" => Ok(Self::TotalOutOfRange),
            other => Err(format!("unknown rejection reason {other:?}")),
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
pub fn transition(from: OrderStatus, event: OrderEvent) -> Result<Next, InvalidTransition> {
    use OrderEvent::*;
    use OrderStatus::*;
    match (from, event) {
        (Pending, StockReserved) => Ok(Next::Move(Confirmed)),
        (Pending, StockFailed | StockRequestTimedOut | TotalOutOfRange) => Ok(Next::Move(Rejected)),
        (Pending | Confirmed, CancelRequested) => Ok(Next::Move(Cancelled)),
        (Cancelled, StockReserved | StockFailed)
        | (Confirmed, StockReserved)
        | (Rejected, StockFailed | StockReserved)
        | (Confirmed | Rejected | Cancelled, StockRequestTimedOut | TotalOutOfRange) => {
            Ok(Next::Stay)
        }
        (Confirmed, StockFailed) | (Rejected | Cancelled, CancelRequested) => {
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
    fn pending_and_unpaid_confirmed_orders_are_open_and_final_ones_are_not() {
        assert!(Pending.is_open() && Confirmed.is_open());
        assert!(!Rejected.is_open() && !Cancelled.is_open());
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
    fn rejected_and_cancelled_orders_cannot_be_cancelled() {
        for from in [Rejected, Cancelled] {
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
        for from in [Confirmed, Rejected, Cancelled] {
            assert_eq!(transition(from, TotalOutOfRange), Ok(Next::Stay));
        }
    }

    #[test]
    fn a_timeout_after_the_order_was_decided_changes_nothing() {
        for from in [Confirmed, Rejected, Cancelled] {
            assert_eq!(transition(from, StockRequestTimedOut), Ok(Next::Stay));
        }
    }

    #[test]
    fn a_reservation_arriving_after_a_timeout_rejected_the_order_changes_nothing() {
        // The timeout published order.cancelled, which releases that reservation.
        assert_eq!(transition(Rejected, StockReserved), Ok(Next::Stay));
    }

    #[test]
    fn rejection_reasons_round_trip_through_their_names() {
        for reason in [
            RejectionReason::InsufficientStock,
            RejectionReason::Timeout,
            RejectionReason::TotalOutOfRange,
        ] {
            assert_eq!(reason.as_str().parse::<RejectionReason>(), Ok(reason));
        }
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in [Pending, Confirmed, Rejected, Cancelled] {
            assert_eq!(status.as_str().parse::<OrderStatus>(), Ok(status));
        }
        assert!("SHIPPED".parse::<OrderStatus>().is_err());
    }
}
