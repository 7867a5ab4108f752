//! What auth-service publishes and how it reacts to user-service's answers.
//!
//! - [`payloads`]: the `data` of `creating.user` (published) and
//!   `creating.user.response` (consumed).
//! - [`registration_result`]: `creating.user.response` → the account becomes ACTIVE
//!   or REJECTED, once.
//! - [`profile_request`]: the saga deadline of a registration: `creating.user` sent
//!   again while unanswered, then REJECTED `timeout` and `creating.user.cancelled`.

pub mod payloads;
pub mod profile_request;
pub mod registration_result;

/// `source` of every event auth-service writes.
pub const SOURCE: &str = "auth-service";
/// Consumer group (and dedupe scope) of auth-service's inbox, before the topic prefix.
pub const GROUP: &str = "auth-service";
