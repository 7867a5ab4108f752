//! Text from clients, parsed once: no control characters.
//!
//! Control characters have no place in names, filters or descriptions. NUL is refused by
//! Postgres (before these types it made a 500 and an error line per request), and escape
//! sequences or line breaks in a name end up in terminals, logs and other people's
//! screens. So every text field of a request body or query string is one of these types,
//! and deserializing is the check: a request that holds a control character never reaches
//! its handler. The extractors answer 400 `invalid_json` (body) or `invalid_query` (query
//! string), naming the character and where it is.
//!
//! - [`Text`]: one line; no Unicode control character at all (category `Cc`:
//!   U+0000–U+001F and U+007F–U+009F).
//! - [`MultilineText`]: free text such as a description; like [`Text`], but tab, line
//!   feed and carriage return are allowed.
//!
//! Both are documented in OpenAPI as strings with a `pattern`, so clients (and API
//! fuzzers) know the rule.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;

/// What [`Text`] refuses, as an ECMA-262 regular expression (OpenAPI `pattern`).
pub const TEXT_PATTERN: &str = r"^[^\u0000-\u001F\u007F-\u009F]*$";
/// What [`MultilineText`] refuses: the same, except tab, line feed and carriage return.
pub const MULTILINE_PATTERN: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";

/// A control character where the text allows none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "text must not contain control characters; found U+{code_point:04X} at character {position}"
)]
pub struct ControlCharacter {
    /// The character's code point.
    pub code_point: u32,
    /// Its 0-based position, in characters.
    pub position: usize,
}

/// The first control character of `raw` that `allowed` does not let through.
fn check(raw: &str, allowed: fn(char) -> bool) -> Result<(), ControlCharacter> {
    match raw
        .chars()
        .enumerate()
        .find(|&(_, c)| c.is_control() && !allowed(c))
    {
        Some((position, c)) => Err(ControlCharacter {
            code_point: u32::from(c),
            position,
        }),
        None => Ok(()),
    }
}

/// One line of text without control characters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Text(String);

impl Text {
    /// Parses `raw`; any control character is refused.
    pub fn parse(raw: impl Into<String>) -> Result<Self, ControlCharacter> {
        let raw = raw.into();
        check(&raw, |_| false)?;
        Ok(Self(raw))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text, owned.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Free text without control characters other than tab, line feed and carriage return.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MultilineText(String);

impl MultilineText {
    /// Parses `raw`; control characters other than `\t`, `\n` and `\r` are refused.
    pub fn parse(raw: impl Into<String>) -> Result<Self, ControlCharacter> {
        let raw = raw.into();
        check(&raw, |c| matches!(c, '\t' | '\n' | '\r'))?;
        Ok(Self(raw))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text, owned.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// The shared plumbing of both types: serde conversions, `Deref`, `Display`, OpenAPI.
macro_rules! text_type {
    ($type:ident, $pattern:expr, $description:expr) => {
        impl TryFrom<String> for $type {
            type Error = ControlCharacter;

            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse(raw)
            }
        }

        impl From<$type> for String {
            fn from(text: $type) -> Self {
                text.0
            }
        }

        impl Deref for $type {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $type {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl utoipa::PartialSchema for $type {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some($pattern))
                    .description(Some($description))
                    .into()
            }
        }

        impl utoipa::ToSchema for $type {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($type))
            }
        }
    };
}

/// What a [`Text`] field whose value is trimmed and must then hold 1 to `max_chars`
/// characters looks like in OpenAPI: a `pattern` that says exactly that (no control
/// characters anywhere, whitespace around a first and last character that are not
/// whitespace, at most `max_chars` characters between them included). Use it with
/// `#[schema(schema_with = ..)]`, so fuzzers draw values the service accepts.
pub fn trimmed_text_schema(max_chars: usize) -> utoipa::openapi::schema::Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(trimmed_text_pattern(max_chars)))
        .description(Some(format!(
            "Text without control characters (U+0000-U+001F, U+007F-U+009F): 1 to \
             {max_chars} characters once surrounding whitespace is trimmed."
        )))
        .build()
}

/// The pattern of [`trimmed_text_schema`].
pub fn trimmed_text_pattern(max_chars: usize) -> String {
    const CONTROL: &str = r"\u0000-\u001F\u007F-\u009F";
    format!(
        r"^[^\S{CONTROL}]*[^\s{CONTROL}]([^{CONTROL}]{{0,{}}}[^\s{CONTROL}])?[^\S{CONTROL}]*$",
        max_chars.saturating_sub(2)
    )
}

/// What a [`MultilineText`] field of at most `max_chars` characters looks like in OpenAPI.
pub fn multiline_text_schema(max_chars: usize) -> utoipa::openapi::schema::Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(MULTILINE_PATTERN))
        .max_length(Some(max_chars))
        .description(Some(
            "Text without control characters other than tab, line feed and carriage return.",
        ))
        .build()
}

text_type!(
    Text,
    TEXT_PATTERN,
    "Text without control characters (U+0000-U+001F, U+007F-U+009F)."
);
text_type!(
    MultilineText,
    MULTILINE_PATTERN,
    "Text without control characters other than tab, line feed and carriage return."
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_refuses_every_control_character_and_says_where() {
        for c in (0u32..0x20).chain(0x7F..0xA0).filter_map(char::from_u32) {
            let error = Text::parse(format!("ab{c}")).expect_err("refused");
            assert_eq!(
                error,
                ControlCharacter {
                    code_point: u32::from(c),
                    position: 2
                }
            );
        }
        assert_eq!(
            Text::parse("Crème brûlée — 50% ☕")
                .expect("valid")
                .as_str(),
            "Crème brûlée — 50% ☕"
        );
    }

    #[test]
    fn multiline_text_allows_tabs_and_line_breaks_only() {
        assert!(MultilineText::parse("a\n\tb\r\n").is_ok());
        for bad in ["\u{0}", "\u{1b}[31m", "\u{7f}", "\u{85}", "\u{b}"] {
            assert!(MultilineText::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn deserializing_is_parsing() {
        let error = serde_json::from_str::<Text>(r#""x\u0000""#).expect_err("refused");
        assert!(
            error.to_string().contains("U+0000 at character 1"),
            "{error}"
        );
        let text: Text = serde_json::from_str(r#""plain""#).expect("valid");
        assert_eq!(&*text, "plain");
        assert_eq!(serde_json::to_string(&text).expect("json"), r#""plain""#);
    }
}
