//! The calls payment-service makes to the provider, each run by the deadline worker
//! (`comanda_outbox::deadline`) and never from a request or a consumer.
//!
//! The step that decides a call (a consumer, the webhook) schedules its deadline,
//! due at once, in its own transaction; the worker claims it and runs the handler in
//! one transaction that locks the payment, makes the call, and writes the payment's
//! change and its outbox event. So:
//! - a call is made only for a decision that committed, and its result is written
//!   with the event that announces it, or not at all;
//! - a call that fails (provider down, timeout, 5xx) rolls back and is retried with
//!   the worker's backoff (1 s doubling to 60 s), without limit; the worker reports
//!   the failing kind on `/ready` and in `saga_deadlines_failing{kind}`;
//! - a retried call carries the same idempotency key (the payment id; the refund's is
//!   `refund-<payment id>`), so a call whose answer was lost is answered with its
//!   first result: one session and at most one refund per payment.
//!
//! The transaction stays open for the call (at most `provider.request_timeout_ms`);
//! that is what makes "change + event" one step, and it only holds the one payment.
//!
//! - [`create_session`]: CREATING → PENDING + `payment.created` (or FAILED +
//!   `payment.failed` `provider_refused`).
//! - [`void_session`]: voids a VOIDED payment's session.
//! - [`refund`]: REFUNDING → REFUNDED + `payment.refunded`.

pub mod create_session;
pub mod refund;
pub mod void_session;

use crate::db::payments::Payment;
use crate::provider::NewSession;

/// Deadline kind of a payment's session creation.
pub const CREATE_SESSION: &str = "payment.create_session";
/// Deadline kind of a payment's session void.
pub const VOID_SESSION: &str = "payment.void_session";
/// Deadline kind of a payment's refund.
pub const REFUND: &str = "payment.refund";

/// The session `payment` asks the provider for: the same body on every attempt, so
/// a retry under the same key is a replay, never a different request.
fn new_session(payment: &Payment) -> anyhow::Result<NewSession> {
    let (Some(amount_cents), Some(currency), Some(pay_by)) = (
        payment.amount_cents,
        payment.currency.clone(),
        payment.pay_by,
    ) else {
        anyhow::bail!("payment {} has no request to charge", payment.id);
    };
    Ok(NewSession {
        amount_cents,
        currency,
        reference: payment.id.to_string(),
        expires_at: pay_by,
    })
}
