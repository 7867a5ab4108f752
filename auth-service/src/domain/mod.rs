//! The rules of auth-service, free of HTTP and SQL.
//!
//! - [`registration`]: the parsed fields of a registration ("parse, don't validate").
//! - [`password`]: argon2id hashing and verification of passwords.
//! - [`account`]: account statuses and how a registration result moves them.
//! - [`secret_token`]: opaque random tokens stored only as their sha256.

pub mod account;
pub mod password;
pub mod registration;
pub mod secret_token;

use comanda_kit::problem::Problem;

/// A field that failed to parse; answered as a 400 `validation_failed` problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    /// The JSON field name.
    pub field: &'static str,
    /// What is wrong with it, for humans.
    pub message: String,
}

impl Invalid {
    /// `field` is invalid because of `message`.
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl From<Invalid> for Problem {
    fn from(invalid: Invalid) -> Self {
        Problem::bad_request("validation_failed", invalid.to_string())
    }
}
