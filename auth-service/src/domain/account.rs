//! Account statuses and the one transition a registration result makes.

/// Where an account is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Registered; waiting for user-service to create the profile.
    Pending,
    /// Profile created: the account may log in.
    Active,
    /// user-service refused the profile (email known, or an error).
    Rejected,
}

impl Status {
    /// The database and API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "PENDING",
            Status::Active => "ACTIVE",
            Status::Rejected => "REJECTED",
        }
    }
}

/// user-service's answer to `creating.user`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistrationResult {
    /// The profile was created with the account's id.
    Created,
    /// user-service already has a profile with this email.
    Exists,
    /// user-service could not create the profile.
    Error,
}

/// The status and rejection reason a PENDING account takes on `result`.
///
/// Only PENDING accounts move (the caller's `UPDATE … WHERE status = 'PENDING'`),
/// so a late or repeated answer cannot flip a decided account.
pub fn decide(result: RegistrationResult, reason: Option<String>) -> (Status, Option<String>) {
    match result {
        RegistrationResult::Created => (Status::Active, None),
        RegistrationResult::Exists => (
            Status::Rejected,
            Some(reason.unwrap_or_else(|| "a user with this email already exists".to_owned())),
        ),
        RegistrationResult::Error => (
            Status::Rejected,
            Some(reason.unwrap_or_else(|| "the profile could not be created".to_owned())),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_activates_and_anything_else_rejects_with_a_reason() {
        assert_eq!(
            decide(RegistrationResult::Created, None),
            (Status::Active, None)
        );
        let (status, reason) = decide(RegistrationResult::Exists, None);
        assert_eq!(status, Status::Rejected);
        assert!(reason.expect("a reason").contains("exists"));
        let (status, reason) = decide(RegistrationResult::Error, Some("boom".to_owned()));
        assert_eq!(
            (status, reason.as_deref()),
            (Status::Rejected, Some("boom"))
        );
    }
}
