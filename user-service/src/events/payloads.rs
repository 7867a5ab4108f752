//! Event payloads of the registration flow, as user-service reads and writes them.
//!
//! auth-service keeps its own copy of these shapes (services share JSON, not
//! crates); a cross-service test decodes each side's output with the other's types.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `creating.user` v1: create the profile of this new account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatingUser {
    /// The account id; the profile takes the same id.
    pub account_id: Uuid,
    /// The account's email.
    pub email: String,
    /// The person's name.
    pub full_name: String,
    /// Optional phone number.
    #[serde(default)]
    pub phone: Option<String>,
}

/// `creating.user.cancelled` v1 (on the `creating.user` topic, after the account's
/// requests): auth-service gave the registration up; drop its profile if one was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatingUserCancelled {
    /// The account given up.
    pub account_id: Uuid,
}

/// How a `creating.user` request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CreationResult {
    /// The profile exists with the account's id.
    Created,
    /// Another profile already has this email.
    Exists,
    /// The request cannot be honoured (e.g. invalid fields).
    Error,
}

/// `creating.user.response` v1: the answer to auth-service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatingUserResponse {
    /// The account the answer is about.
    pub account_id: Uuid,
    /// What happened.
    pub result: CreationResult,
    /// Why no profile was created, for `exists` and `error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
