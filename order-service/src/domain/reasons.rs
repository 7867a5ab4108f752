//! Why an order ended where it did: REJECTED (no stock held) or CANCELLED / EXPIRED.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

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

/// Why an order was CANCELLED or EXPIRED.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CancellationReason {
    /// Its owner or an admin cancelled it.
    Customer,
    /// Its payment failed.
    PaymentFailed,
    /// The captured amount or currency was not the order's total (it is refunded).
    AmountMismatch,
    /// It was not paid before its payment deadline (EXPIRED).
    Expired,
}

impl CancellationReason {
    /// The reason as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::PaymentFailed => "payment_failed",
            Self::AmountMismatch => "amount_mismatch",
            Self::Expired => "expired",
        }
    }
}

impl FromStr for CancellationReason {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "customer" => Ok(Self::Customer),
            "payment_failed" => Ok(Self::PaymentFailed),
            "amount_mismatch" => Ok(Self::AmountMismatch),
            "expired" => Ok(Self::Expired),
            other => Err(format!("unknown cancellation reason {other:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn cancellation_reasons_round_trip_through_their_names() {
        for reason in [
            CancellationReason::Customer,
            CancellationReason::PaymentFailed,
            CancellationReason::AmountMismatch,
            CancellationReason::Expired,
        ] {
            assert_eq!(reason.as_str().parse::<CancellationReason>(), Ok(reason));
        }
        assert!("timeout".parse::<CancellationReason>().is_err());
    }
}
