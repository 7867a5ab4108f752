//! Profile fields. auth-service validates the same rules at registration; user-service
//! checks again because it owns profiles and must not trust its inputs (events
//! included). The rules are duplicated on purpose: services share contracts, not code.
//! What a control character is comes from the kit ([`comanda_kit::text`]), the one
//! definition every service refuses in client text.

use comanda_kit::text::Text;

use super::Invalid;

/// A profile's email: trimmed, lower case, with an `@`, no whitespace or control
/// characters, and at most 254 characters (not bytes: auth-service counts so, as its
/// document does). auth-service did the full syntax check; this guards the unique index
/// (and Postgres, which refuses NUL in text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Parses `raw`.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let email = raw.trim().to_lowercase();
        let plausible = email.chars().count() <= 254
            && email
                .split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty())
            && !email.chars().any(char::is_whitespace)
            && Text::parse(email.as_str()).is_ok();
        if !plausible {
            return Err(Invalid {
                field: "email",
                message: "is not a valid email address",
            });
        }
        Ok(Self(email))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person's name: 1 to 100 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullName(String);

impl FullName {
    /// Parses `raw`.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let name = raw.trim();
        let chars = name.chars().count();
        if chars == 0 || chars > 100 || Text::parse(name).is_err() {
            return Err(Invalid {
                field: "full_name",
                message: "must be 1 to 100 characters without control characters",
            });
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number: an optional `+`, then 6 to 20 digits with spaces, dashes or
/// parentheses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Parses `raw`; blank means "no phone" and is handled by [`Phone::parse_optional`].
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let phone = raw.trim();
        let body = phone.strip_prefix('+').unwrap_or(phone);
        let allowed = body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')'));
        let digits = body.chars().filter(char::is_ascii_digit).count();
        if !allowed || !(6..=20).contains(&digits) || raw.chars().count() > 30 {
            return Err(Invalid {
                field: "phone",
                message: "must be 6 to 20 digits, optionally with +, spaces, dashes or parentheses",
            });
        }
        Ok(Self(phone.to_owned()))
    }

    /// `None` for a missing or blank phone, else the parsed phone.
    pub fn parse_optional(raw: Option<&str>) -> Result<Option<Self>, Invalid> {
        raw.filter(|p| !p.trim().is_empty())
            .map(Self::parse)
            .transpose()
    }

    /// The number as entered (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented bound (`maxLength: 30`) counts the phone as sent.
    #[test]
    fn a_phone_longer_than_30_characters_as_sent_is_refused_even_when_blanks_pad_it() {
        assert!(Phone::parse(&format!("000000{}", " ".repeat(25))).is_err());
        assert!(Phone::parse(&format!("000000{}", " ".repeat(24))).is_ok());
    }

    /// auth-service accepts 254 characters (its document's `maxLength`), whatever their
    /// bytes; refusing more bytes here rejected a registration it had accepted.
    #[test]
    fn an_email_of_254_characters_is_a_profile_email_however_many_bytes_they_take() {
        let email = format!("{}@{}.example", "é".repeat(64), "ü".repeat(181));
        assert!(Email::parse(&email).is_ok());
        assert!(Email::parse(&format!("ü{email}")).is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(FullName::parse(" Ann ").expect("valid").as_str(), "Ann");
        assert!(FullName::parse("").is_err());
        assert!(FullName::parse(&"a".repeat(101)).is_err());
        assert!(FullName::parse("Ann\u{0}").is_err());
        assert!(FullName::parse("Ann\u{1b}[2J").is_err());
    }

    #[test]
    fn blank_phones_are_absent_and_bad_phones_refused() {
        assert_eq!(Phone::parse_optional(Some("  ")), Ok(None));
        assert_eq!(Phone::parse_optional(None), Ok(None));
        assert!(Phone::parse_optional(Some("+34 600 123 456"))
            .expect("valid")
            .is_some());
        assert!(Phone::parse_optional(Some("nope")).is_err());
    }

    #[test]
    fn emails_are_normalised_and_need_an_at() {
        assert_eq!(Email::parse(" A@B.io ").expect("valid").as_str(), "a@b.io");
        assert!(Email::parse("ab.io").is_err());
        assert!(Email::parse("a\u{0}@b.io").is_err());
        assert!(Email::parse("a\u{7f}@b.io").is_err());
    }
}
