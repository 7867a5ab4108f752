//! Registration fields as newtypes: once built, a value is known to be valid.

use super::Invalid;

/// A syntactically plausible email address, trimmed and lower-cased so that
/// `Ann@X.io` and `ann@x.io` are one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Parses `raw`: one `@`, a non-empty local part of at most 64 characters, a dotted
    /// domain, no whitespace, at most 254 characters (RFC 5321's sizes).
    ///
    /// Characters, not bytes, and counted as sent (the 254 with surrounding whitespace,
    /// the 64 trimmed, both before lower-casing): the document's `maxLength` and pattern
    /// count them so. A schema-valid address of non-ASCII letters must not be refused
    /// for taking two to four bytes a letter, nor a padded one over 254 accepted.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let sent = raw.trim();
        let invalid = |why: &str| Err(Invalid::new("email", why));
        if sent.is_empty() || raw.chars().count() > 254 {
            return invalid("must be between 1 and 254 characters");
        }
        if sent.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return invalid("must not contain whitespace");
        }
        let Some((local, domain)) = sent.split_once('@') else {
            return invalid("must contain an @");
        };
        let domain_ok = domain.contains('.')
            && !domain.contains('@')
            && domain.split('.').all(|label| !label.is_empty());
        if local.is_empty() || local.chars().count() > 64 || !domain_ok {
            return invalid("is not a valid email address");
        }
        Ok(Self(sent.to_lowercase()))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password good enough to hash: 12 to 128 characters. The upper bound keeps a
/// single request from buying a long argon2 run.
pub struct Password(String);

impl Password {
    /// Shortest accepted password, in characters.
    pub const MIN_CHARS: usize = 12;
    /// Longest accepted password, in characters.
    pub const MAX_CHARS: usize = 128;

    /// Parses `raw` (kept as sent: spaces are legitimate password characters).
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let chars = raw.chars().count();
        if !(Self::MIN_CHARS..=Self::MAX_CHARS).contains(&chars) {
            return Err(Invalid::new(
                "password",
                format!(
                    "must be between {} and {} characters",
                    Self::MIN_CHARS,
                    Self::MAX_CHARS
                ),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The password, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([REDACTED])")
    }
}

/// A person's name as shown to staff: 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullName(String);

impl FullName {
    /// Parses `raw`, trimming surrounding whitespace.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let name = raw.trim();
        let chars = name.chars().count();
        if chars == 0 || chars > 100 || name.chars().any(char::is_control) {
            return Err(Invalid::new(
                "full_name",
                "must be 1 to 100 characters without control characters",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number: an optional leading `+`, then 6 to 20 digits, spaces, dashes
/// or parentheses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Parses `raw`, trimming surrounding whitespace.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let phone = raw.trim();
        let body = phone.strip_prefix('+').unwrap_or(phone);
        let allowed = body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')'));
        let digits = body.chars().filter(char::is_ascii_digit).count();
        if !allowed || !(6..=20).contains(&digits) || raw.chars().count() > 30 {
            return Err(Invalid::new(
                "phone",
                "must be 6 to 20 digits, optionally with +, spaces, dashes or parentheses",
            ));
        }
        Ok(Self(phone.to_owned()))
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

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        let email = Email::parse("  Ann.Lee@Example.COM ").expect("valid");
        assert_eq!(email.as_str(), "ann.lee@example.com");
    }

    #[test]
    fn implausible_emails_are_refused() {
        for raw in [
            "",
            "ann",
            "@example.com",
            "ann@",
            "ann@example",
            "ann@@example.com",
            "a nn@example.com",
            "ann@example..com",
        ] {
            assert!(Email::parse(raw).is_err(), "{raw:?} was accepted");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(Email::parse(&long_local).is_err());
    }

    #[test]
    fn passwords_need_twelve_to_128_characters() {
        assert!(Password::parse("eleven-char").is_err());
        assert!(Password::parse("twelve-chars").is_ok());
        assert!(Password::parse(&"x".repeat(129)).is_err());
        // Characters, not bytes: twelve two-byte characters are enough.
        assert!(Password::parse(&"é".repeat(12)).is_ok());
    }

    #[test]
    fn a_password_never_shows_in_debug_output() {
        let password = Password::parse("correct horse battery").expect("valid");
        assert!(!format!("{password:?}").contains("horse"));
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            FullName::parse(" Ann Lee ").expect("valid").as_str(),
            "Ann Lee"
        );
        assert!(FullName::parse("   ").is_err());
        assert!(FullName::parse(&"a".repeat(101)).is_err());
        assert!(FullName::parse("Ann\u{0}Lee").is_err());
    }

    #[test]
    fn phones_are_digits_with_light_punctuation() {
        assert!(Phone::parse("+34 600-123 456").is_ok());
        assert!(Phone::parse("(01) 234567").is_ok());
        assert!(Phone::parse("12345").is_err());
        assert!(Phone::parse("call me").is_err());
    }
}
