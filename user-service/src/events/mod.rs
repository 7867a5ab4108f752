//! What user-service consumes and answers.
//!
//! - [`payloads`]: the `data` of `creating.user` (consumed) and
//!   `creating.user.response` (published).
//! - [`create_profile`]: `creating.user` → a profile with the account's id, or
//!   `exists` for a known email; the answer is appended in the same transaction.

pub mod create_profile;
pub mod payloads;

/// `source` of every event user-service writes.
pub const SOURCE: &str = "user-service";
/// Consumer group (and dedupe scope) of user-service's inbox, before the topic prefix.
pub const GROUP: &str = "user-service";
