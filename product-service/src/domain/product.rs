//! A product as an admin submits it, parsed into values that are valid by construction.
//!
//! Text fields refuse control characters as they are deserialized (see
//! [`comanda_kit::text`]); prices and stock are bounded so that no order total can
//! overflow: an order has at most 50 lines of at most 1,000 units, so its total is at
//! most 50 × 1,000 × [`MAX_PRICE_CENTS`] = 5 × 10^13 cents, far inside an `i64` and
//! inside the integers a JSON client holding numbers as doubles keeps exact (2^53).

use comanda_kit::problem::Problem;
use comanda_kit::text::{MultilineText, Text};
use serde::Deserialize;

/// Highest price of a product, in cents (10,000,000.00).
pub const MAX_PRICE_CENTS: i64 = 1_000_000_000;
/// Most units of a product on hand: stock given back by releases still fits an `i32`.
pub const MAX_STOCK: i32 = 1_000_000_000;

/// A stock-keeping unit: 1–64 characters of letters, digits, `-` and `_`, upper-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sku(String);

impl Sku {
    /// Parses `raw`, upper-casing it so `abc-1` and `ABC-1` are the same SKU.
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let sku = raw.trim().to_ascii_uppercase();
        let valid = (1..=64).contains(&sku.len())
            && sku
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if valid {
            Ok(Self(sku))
        } else {
            Err(invalid("sku must be 1-64 letters, digits, '-' or '_'"))
        }
    }

    /// The SKU as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The body of `POST /products` and `PUT /products/{id}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ProductBody {
    /// Stock-keeping unit, unique in the catalogue.
    #[schema(example = "PIZZA-MARG", pattern = r"^\s*[A-Za-z0-9_-]{1,64}\s*$")]
    pub sku: String,
    /// Display name, 1-200 characters.
    #[schema(schema_with = name_schema)]
    pub name: Text,
    /// Free text, at most 2000 characters; empty when absent.
    #[serde(default)]
    #[schema(schema_with = description_schema)]
    pub description: MultilineText,
    /// Category used for filtering, 1-100 characters.
    #[schema(schema_with = category_schema)]
    pub category: Text,
    /// Price in cents, 0 to 1,000,000,000.
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    #[serde(deserialize_with = "comanda_kit::whole_number::deserialize")]
    pub price_cents: i64,
    /// Units on hand, 0 to 1,000,000,000. Required on POST. On PUT, leave it out (or
    /// send the current count) to keep the stock as it is; a different count needs
    /// `If-Match` with the product's version, else 428 `if_match_required`. Prefer
    /// `POST /api/v1/products/{id}/stock-adjustments`, whose deltas never erase a
    /// reservation made meanwhile.
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    #[serde(
        default,
        deserialize_with = "comanda_kit::whole_number::option::deserialize"
    )]
    pub stock: Option<i32>,
    /// Orderable; defaults to true.
    #[serde(default = "yes")]
    pub active: bool,
}

/// The body of `POST /products` as documented: [`ProductBody`] with `stock` required (a
/// new product needs a count). The handler reads a [`ProductBody`] and refuses a missing
/// stock with 400 `invalid_product`; this type only describes that rule.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct NewProductBody {
    /// Stock-keeping unit, unique in the catalogue.
    #[schema(example = "PIZZA-MARG", pattern = r"^\s*[A-Za-z0-9_-]{1,64}\s*$")]
    sku: String,
    /// Display name, 1-200 characters.
    #[schema(schema_with = name_schema)]
    name: Text,
    /// Free text, at most 2000 characters; empty when absent.
    #[schema(schema_with = description_schema, required = false)]
    description: MultilineText,
    /// Category used for filtering, 1-100 characters.
    #[schema(schema_with = category_schema)]
    category: Text,
    /// Price in cents, 0 to 1,000,000,000.
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    price_cents: i64,
    /// Units on hand, 0 to 1,000,000,000. Later changes: stock adjustments.
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    stock: i32,
    /// Orderable; defaults to true.
    #[schema(required = false)]
    active: bool,
}

fn name_schema() -> utoipa::openapi::schema::Object {
    comanda_kit::text::trimmed_text_schema(200)
}

fn category_schema() -> utoipa::openapi::schema::Object {
    comanda_kit::text::trimmed_text_schema(100)
}

fn description_schema() -> utoipa::openapi::schema::Object {
    comanda_kit::text::multiline_text_schema(2000)
}

fn yes() -> bool {
    true
}

/// A product that passed validation, ready to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductDraft {
    /// Its SKU.
    pub sku: Sku,
    /// Trimmed, non-empty, at most 200 characters.
    pub name: String,
    /// At most 2000 characters.
    pub description: String,
    /// Trimmed, lower-cased, non-empty, at most 100 characters.
    pub category: String,
    /// In `0..=MAX_PRICE_CENTS`.
    pub price_cents: i64,
    /// In `0..=MAX_STOCK`; `None` when the body left it out (a PUT keeping the stock).
    pub stock: Option<i32>,
    /// Orderable.
    pub active: bool,
}

impl ProductDraft {
    /// The stock of a new product: a POST must say how many units there are.
    pub fn initial_stock(&self) -> Result<i32, Problem> {
        self.stock.ok_or_else(|| invalid("stock is required"))
    }

    /// Validates `body`; the first broken rule is a 400 `invalid_product`.
    pub fn parse(body: ProductBody) -> Result<Self, Problem> {
        let name = body.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(invalid("name must be 1-200 characters"));
        }
        if body.description.chars().count() > 2000 {
            return Err(invalid("description must be at most 2000 characters"));
        }
        let category = body.category.trim().to_lowercase();
        if category.is_empty() || category.chars().count() > 100 {
            return Err(invalid("category must be 1-100 characters"));
        }
        if !(0..=MAX_PRICE_CENTS).contains(&body.price_cents) {
            return Err(invalid(&format!(
                "price_cents must be 0 to {MAX_PRICE_CENTS}"
            )));
        }
        if body
            .stock
            .is_some_and(|stock| !(0..=MAX_STOCK).contains(&stock))
        {
            return Err(invalid(&format!("stock must be 0 to {MAX_STOCK}")));
        }
        Ok(Self {
            sku: Sku::parse(&body.sku)?,
            name,
            description: body.description.into_inner(),
            category,
            price_cents: body.price_cents,
            stock: body.stock,
            active: body.active,
        })
    }
}

fn invalid(detail: &str) -> Problem {
    Problem::bad_request("invalid_product", detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// JSON Schema (and so the OpenAPI document) counts `2.0` as the integer 2.
    #[test]
    fn whole_numbers_spelled_with_a_fraction_are_the_integers_they_name() {
        let body: ProductBody = serde_json::from_str(
            r#"{"sku": "PZ-1", "name": "Pizza", "category": "mains",
                "price_cents": 525.0, "stock": 3.0}"#,
        )
        .expect("a body with whole numbers");
        assert_eq!((body.price_cents, body.stock), (525, Some(3)));
        for broken in [
            r#""price_cents": 525.5"#,
            r#""price_cents": 1e19"#,
            r#""stock": 3e9"#,
        ] {
            let json = format!(
                r#"{{"sku": "PZ-1", "name": "Pizza", "category": "mains", "price_cents": 1, {broken}}}"#
            );
            assert!(
                serde_json::from_str::<ProductBody>(&json).is_err(),
                "{broken}"
            );
        }
    }

    fn body() -> ProductBody {
        ProductBody {
            sku: " pz-1 ".into(),
            name: Text::parse(" Pizza ").expect("text"),
            description: MultilineText::default(),
            category: Text::parse(" Mains ").expect("text"),
            price_cents: 1200,
            stock: Some(3),
            active: true,
        }
    }

    #[test]
    fn a_valid_body_is_normalised() {
        let draft = ProductDraft::parse(body()).expect("valid");
        assert_eq!(draft.sku.as_str(), "PZ-1");
        assert_eq!(draft.name, "Pizza");
        assert_eq!(draft.category, "mains");
    }

    #[test]
    fn negative_prices_and_stock_are_refused() {
        let mut b = body();
        b.price_cents = -1;
        assert_eq!(
            ProductDraft::parse(b).expect_err("bad").code,
            "invalid_product"
        );
        let mut b = body();
        b.stock = Some(-1);
        assert!(ProductDraft::parse(b).is_err());
    }

    #[test]
    fn prices_and_stock_above_their_bounds_are_refused() {
        let mut b = body();
        b.price_cents = MAX_PRICE_CENTS;
        b.stock = Some(MAX_STOCK);
        assert!(ProductDraft::parse(b).is_ok());
        let mut b = body();
        b.price_cents = MAX_PRICE_CENTS + 1;
        assert_eq!(
            ProductDraft::parse(b).expect_err("bad").code,
            "invalid_product"
        );
        let mut b = body();
        b.stock = Some(MAX_STOCK + 1);
        assert!(ProductDraft::parse(b).is_err());
    }

    #[test]
    fn a_body_without_stock_keeps_it_but_cannot_create() {
        let mut b = body();
        b.stock = None;
        let draft = ProductDraft::parse(b).expect("valid");
        assert_eq!(draft.stock, None);
        assert_eq!(
            draft.initial_stock().expect_err("required").code,
            "invalid_product"
        );
    }

    #[test]
    fn skus_with_spaces_or_symbols_are_refused() {
        assert!(Sku::parse("a b").is_err());
        assert!(Sku::parse("").is_err());
        assert!(Sku::parse("x$").is_err());
        assert!(Sku::parse(&"a".repeat(65)).is_err());
    }
}
