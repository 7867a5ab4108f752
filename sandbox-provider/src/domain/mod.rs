//! The processor's rules, free of HTTP and of the store: test cards and the session's
//! state machine.

pub mod card;
pub mod session;

pub use card::{Card, CardOutcome};
pub use session::{
    FailureReason, NewSession, Paid, PayError, RefundError, Session, Status, VoidError,
};
