//! payment-service's metrics (Prometheus, on `/metrics`).
//!
//! - `payments_total{status}`: payments that reached `status` (`CREATING`: requested,
//!   `PENDING`, `SUCCEEDED`, `FAILED`, `VOIDED`, `CANCELLED`, `REFUNDING`, `REFUNDED`). Counted
//!   where the change is written; a transaction that then fails to commit is retried
//!   and may count twice, so read it as a rate, and the database as the truth.
//! - `payment_webhooks_total{type, outcome}`: verified webhook deliveries by outcome
//!   (`applied`, `ignored`, `unknown_payment`, `duplicate`), counted after commit.
//! - `payment_webhook_verification_failures_total{code}`: deliveries refused before
//!   parsing (`invalid_signature`, `stale_signature`) or after (`invalid_payload`).
//!   A rise is a forger, a replay, or a rotated secret missing here.
//! - `payment_provider_calls_total{call, outcome}`: calls to the provider
//!   (`create_session`, `void_session`, `refund`) by outcome (`ok`, `refused`,
//!   `unavailable`). Stuck calls also show in the deadline worker's
//!   `saga_deadlines_failing{kind}` and on `/ready`.

use crate::domain::status::PaymentStatus;
use crate::provider::ProviderError;

/// A payment reached `status`.
pub fn payment(status: PaymentStatus) {
    metrics::counter!("payments_total", "status" => status.as_str()).increment(1);
}

/// A verified webhook of `event_type` was answered with `outcome`.
pub fn webhook(event_type: &str, outcome: &'static str) {
    // The type is the provider's text: only known types become label values.
    let event_type = match event_type {
        crate::provider::webhook::COMPLETED
        | crate::provider::webhook::PAYMENT_FAILED
        | crate::provider::webhook::REFUNDED => event_type.to_owned(),
        _ => "other".to_owned(),
    };
    metrics::counter!("payment_webhooks_total", "type" => event_type, "outcome" => outcome)
        .increment(1);
}

/// A webhook delivery was refused with problem `code`.
pub fn verification_failure(code: &'static str) {
    metrics::counter!("payment_webhook_verification_failures_total", "code" => code).increment(1);
}

/// A provider call `call` ended as `result` says.
pub fn provider_call<T>(call: &'static str, result: &Result<T, ProviderError>) {
    let outcome = match result {
        Ok(_) => "ok",
        Err(ProviderError::Refused { .. }) => "refused",
        Err(ProviderError::Unavailable(_)) => "unavailable",
    };
    metrics::counter!("payment_provider_calls_total", "call" => call, "outcome" => outcome)
        .increment(1);
}
