//! An order's payment as payment-service reports it, and the refund of a captured one.
//!
//! Payment events can arrive late, repeated (a new event id for the same fact) or out of
//! order with each other, so what the order shows only ever moves forward: a payment is
//! `pending` (the checkout exists), then `failed` or `succeeded`, and a success — money
//! captured — is never overwritten by a failure. A refund is `pending` from the moment
//! order-service knows payment-service will refund (a captured payment of an order that
//! ended CANCELLED or EXPIRED) until `payment.refunded` makes it `succeeded`.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where a payment stands; ordered by how far it got (`Pending < Failed < Succeeded`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[schema(as = OrderPaymentStatus)]
pub enum PaymentStatus {
    /// The provider's checkout exists; the customer has not paid yet.
    Pending,
    /// The payment failed (declined, insufficient funds, …).
    Failed,
    /// The charge was captured.
    Succeeded,
}

impl PaymentStatus {
    /// The status as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Failed => "failed",
            Self::Succeeded => "succeeded",
        }
    }

    /// What a payment at `current` (if known) shows once `reported` is reported: the
    /// further of the two, so a late or repeated report never takes it back.
    pub fn advance(current: Option<Self>, reported: Self) -> Self {
        current.map_or(reported, |current| current.max(reported))
    }
}

impl FromStr for PaymentStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pending" => Ok(Self::Pending),
            "failed" => Ok(Self::Failed),
            "succeeded" => Ok(Self::Succeeded),
            other => Err(format!("unknown payment status {other:?}")),
        }
    }
}

/// Where a refund stands; ordered (`Pending < Succeeded`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[schema(as = OrderRefundStatus)]
pub enum RefundStatus {
    /// payment-service is refunding the captured payment.
    Pending,
    /// The provider refunded it.
    Succeeded,
}

impl RefundStatus {
    /// The status as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
        }
    }

    /// The further of `current` (if any) and `reported`.
    pub fn advance(current: Option<Self>, reported: Self) -> Self {
        current.map_or(reported, |current| current.max(reported))
    }
}

impl FromStr for RefundStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pending" => Ok(Self::Pending),
            "succeeded" => Ok(Self::Succeeded),
            other => Err(format!("unknown refund status {other:?}")),
        }
    }
}

/// An order's payment, as shown on the order (named `OrderPayment` in the OpenAPI
/// document, apart from payment-service's own payment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = OrderPayment)]
pub struct Payment {
    /// payment-service's payment id (`GET /api/v1/payments/{id}`).
    pub id: Uuid,
    /// Where it stands.
    pub status: PaymentStatus,
    /// Where the customer pays (the provider's checkout page); absent until the checkout
    /// exists.
    pub checkout_url: Option<String>,
    /// When the checkout stops taking payment (UTC).
    pub expires_at: Option<DateTime<Utc>>,
}

/// The refund of an order's captured payment, as shown on the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = OrderRefund)]
pub struct Refund {
    /// Where it stands.
    pub status: RefundStatus,
}

/// A payment event naming payment `reported` for an order whose payment is `known`:
/// `Err` when they differ, since payment-service makes one payment per order and two
/// ids mean an event that cannot be trusted to be about this order's money.
pub fn same_payment(known: Option<&Payment>, reported: Uuid) -> Result<(), String> {
    match known {
        Some(payment) if payment.id != reported => Err(format!(
            "the order's payment is {}, the event's {reported}",
            payment.id
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::PaymentStatus::{Failed, Pending, Succeeded};
    use super::*;

    #[test]
    fn a_payment_status_only_moves_forward() {
        assert_eq!(PaymentStatus::advance(None, Pending), Pending);
        assert_eq!(PaymentStatus::advance(Some(Pending), Succeeded), Succeeded);
        assert_eq!(PaymentStatus::advance(Some(Pending), Failed), Failed);
        // A checkout reported after the outcome, or a failure after a success, is late.
        assert_eq!(PaymentStatus::advance(Some(Succeeded), Pending), Succeeded);
        assert_eq!(PaymentStatus::advance(Some(Failed), Pending), Failed);
        assert_eq!(PaymentStatus::advance(Some(Succeeded), Failed), Succeeded);
        // Money captured after a failure is captured all the same.
        assert_eq!(PaymentStatus::advance(Some(Failed), Succeeded), Succeeded);
    }

    #[test]
    fn a_refund_once_succeeded_stays_succeeded() {
        use RefundStatus::{Pending, Succeeded};
        assert_eq!(RefundStatus::advance(None, Pending), Pending);
        assert_eq!(RefundStatus::advance(Some(Pending), Succeeded), Succeeded);
        assert_eq!(RefundStatus::advance(Some(Succeeded), Pending), Succeeded);
    }

    #[test]
    fn an_event_about_another_payment_of_the_order_is_refused() {
        let payment = Payment {
            id: Uuid::now_v7(),
            status: Pending,
            checkout_url: None,
            expires_at: None,
        };
        assert!(same_payment(None, Uuid::now_v7()).is_ok());
        assert!(same_payment(Some(&payment), payment.id).is_ok());
        assert!(same_payment(Some(&payment), Uuid::now_v7()).is_err());
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in [Pending, Failed, Succeeded] {
            assert_eq!(status.as_str().parse::<PaymentStatus>(), Ok(status));
        }
        for status in [RefundStatus::Pending, RefundStatus::Succeeded] {
            assert_eq!(status.as_str().parse::<RefundStatus>(), Ok(status));
        }
    }
}
