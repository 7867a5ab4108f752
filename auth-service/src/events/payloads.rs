//! Event payloads of the registration flow, as auth-service writes and reads them.
//!
//! user-service keeps its own copy of these shapes (services share JSON, not
//! crates); a cross-service test decodes each side's output with the other's types.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::account::RegistrationResult;

/// `creating.user` v1: please create the profile of this new account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatingUser {
    /// The account id; the profile takes the same id.
    pub account_id: Uuid,
    /// Normalised email.
    pub email: String,
    /// The person's name.
    pub full_name: String,
    /// Optional phone number.
    pub phone: Option<String>,
}

/// `creating.user.cancelled` v1 (on the `creating.user` topic): the registration was
/// given up (nobody answered in time); drop the profile a late request made for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatingUserCancelled {
    /// The account given up.
    pub account_id: Uuid,
}

/// `creating.user.response` v1: user-service's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatingUserResponse {
    /// The account the answer is about.
    pub account_id: Uuid,
    /// `created`, `exists` or `error`.
    pub result: RegistrationResult,
    /// Why it was not created, for `exists` and `error`.
    #[serde(default)]
    pub reason: Option<String>,
}
