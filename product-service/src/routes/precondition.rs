//! A product's version as its `ETag`, and the `If-Match` a stock-changing PUT needs.
//!
//! The tag is the version in quotes (`"7"`), strong: it changes with every change of
//! the product, the stock moves of orders included. `If-Match` is compared strongly
//! (RFC 9110 §13.1.1), so a weak tag never matches.

use actix_web::http::header::{ETag, EntityTag, IF_MATCH};
use actix_web::http::StatusCode;
use actix_web::HttpRequest;
use comanda_kit::problem::Problem;
use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;

/// The `ETag` header of a product at `version`.
pub fn etag(version: i64) -> ETag {
    ETag(EntityTag::new_strong(version.to_string()))
}

/// What a request's `If-Match` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// No `If-Match`.
    Absent,
    /// `If-Match: *`: any current product, whatever its version.
    Any,
    /// One of these tags must be the product's current one.
    Tags(Vec<EntityTag>),
}

impl IfMatch {
    /// Reads `If-Match` from `req`; a malformed one is a 400 `invalid_if_match`.
    pub fn from_request(req: &HttpRequest) -> Result<Self, Problem> {
        let mut tags = Vec::new();
        let mut any = false;
        for value in req.headers().get_all(IF_MATCH) {
            let value = value.to_str().map_err(|_| invalid())?;
            for item in list_elements(value).ok_or_else(invalid)? {
                if item == "*" {
                    any = true;
                } else {
                    tags.push(item.parse::<EntityTag>().map_err(|_| invalid())?);
                }
            }
        }
        Ok(match (any, tags.is_empty()) {
            (true, _) => Self::Any,
            (false, false) => Self::Tags(tags),
            (false, true) if req.headers().contains_key(IF_MATCH) => return Err(invalid()),
            (false, true) => Self::Absent,
        })
    }

    /// True when a client named the version it read (so it may set the stock).
    pub fn names_a_version(&self) -> bool {
        matches!(self, Self::Tags(_))
    }

    /// Passes when the condition holds for a product at `version`; 412
    /// `version_mismatch` when the client's tags are all stale.
    pub fn check(&self, version: i64) -> Result<(), Problem> {
        let Self::Tags(tags) = self else {
            return Ok(());
        };
        let current = etag(version).0;
        if tags.iter().any(|tag| tag.strong_eq(&current)) {
            return Ok(());
        }
        Err(Problem::new(
            StatusCode::PRECONDITION_FAILED,
            "version_mismatch",
            format!(
                "the product changed since it was read: it is now at version {current}; \
                 read it again and redo the change"
            ),
        ))
    }
}

/// The elements of a header list (RFC 9110 §5.6.1): split at the commas outside quotes
/// (an entity tag may hold a comma, and has no escapes), each trimmed, empty ones left
/// out. `None` when a quote is left open.
fn list_elements(value: &str) -> Option<Vec<&str>> {
    let mut elements = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (at, c) in value.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                elements.push(value[start..at].trim());
                start = at + 1;
            }
            _ => {}
        }
    }
    if quoted {
        return None;
    }
    elements.push(value[start..].trim());
    elements.retain(|element| !element.is_empty());
    Some(elements)
}

/// Entity tags separated by commas, as [`IfMatch::from_request`] reads them: strong
/// (`"7"`) or weak (`W/"7"`), visible ASCII between the quotes.
pub const ENTITY_TAGS_PATTERN: &str = r#"^(W/)?"[!#-~]*"(, ?(W/)?"[!#-~]*")*$"#;

/// `If-Match` in the OpenAPI document: `*`, or a list of entity tags (RFC 9110 §13.1.1).
///
/// The two alternatives are spelled apart rather than as one pattern: schemathesis draws
/// no value from a header `pattern` that needs a character other than a letter or digit,
/// and then sends an invalid one (`0`) as if it were valid; from `"*"` it draws `*`.
pub struct IfMatchHeader;

impl utoipa::PartialSchema for IfMatchHeader {
    fn schema() -> RefOr<Schema> {
        AnyOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["*"]))
                    .description(Some("Any current version.")),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(ENTITY_TAGS_PATTERN))
                    .description(Some("One of these versions, e.g. `\"7\"`.")),
            )
            .into()
    }
}

impl utoipa::ToSchema for IfMatchHeader {}

/// 428 `if_match_required`: a PUT would set the stock without naming the version read.
pub fn required() -> Problem {
    Problem::new(
        StatusCode::PRECONDITION_REQUIRED,
        "if_match_required",
        "changing the stock with PUT needs If-Match with the product's ETag (orders may have \
         moved it since you read it); or leave stock out, or POST a delta to \
         /api/v1/products/{id}/stock-adjustments",
    )
}

fn invalid() -> Problem {
    Problem::bad_request(
        "invalid_if_match",
        "If-Match must be * or a list of quoted entity tags, e.g. \"7\"",
    )
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn parse(values: &[&str]) -> Result<IfMatch, Problem> {
        let mut req = TestRequest::default();
        for value in values {
            req = req.append_header((IF_MATCH, *value));
        }
        IfMatch::from_request(&req.to_http_request())
    }

    #[test]
    fn only_a_strong_tag_of_the_current_version_matches() {
        let tags = parse(&["\"3\", \"4\""]).expect("valid");
        assert!(tags.names_a_version());
        assert!(tags.check(4).is_ok());
        assert_eq!(tags.check(5).expect_err("stale").code, "version_mismatch");
        let weak = parse(&["W/\"5\""]).expect("valid");
        assert_eq!(weak.check(5).expect_err("weak").status, 412);
    }

    #[test]
    fn a_missing_or_star_if_match_names_no_version_and_junk_is_refused() {
        assert_eq!(parse(&[]), Ok(IfMatch::Absent));
        let any = parse(&["*"]).expect("valid");
        assert!(!any.names_a_version());
        assert!(any.check(9).is_ok());
        for junk in ["5", "", "\"5"] {
            assert_eq!(
                parse(&[junk]).expect_err(junk).code,
                "invalid_if_match",
                "{junk:?}"
            );
        }
    }
}
