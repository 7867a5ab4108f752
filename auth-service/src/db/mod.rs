//! Database access of auth-service: one module per table.

pub mod accounts;
pub mod refresh_tokens;
pub mod schema;

/// True when `error` is a unique-constraint violation (e.g. a taken email).
pub fn is_unique_violation(error: &diesel::result::Error) -> bool {
    matches!(
        error,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}
