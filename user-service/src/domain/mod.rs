//! The rules of user-service, free of HTTP and SQL.
//!
//! - [`profile`]: profile fields as newtypes ("parse, don't validate").

pub mod profile;

use comanda_kit::problem::Problem;

/// A field that failed to parse; answered as a 400 `validation_failed` problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    /// The JSON field name.
    pub field: &'static str,
    /// What is wrong with it, for humans.
    pub message: &'static str,
}

impl From<Invalid> for Problem {
    fn from(invalid: Invalid) -> Self {
        Problem::bad_request("validation_failed", invalid.to_string())
    }
}
