//! A product as an admin submits it, parsed into values that are valid by construction.

use comanda_kit::problem::Problem;
use serde::Deserialize;

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
    #[schema(example = "PIZZA-MARG")]
    pub sku: String,
    /// Display name.
    pub name: String,
    /// Free text; empty when absent.
    #[serde(default)]
    pub description: String,
    /// Category used for filtering.
    pub category: String,
    /// Price in cents.
    pub price_cents: i64,
    /// Units on hand.
    pub stock: i32,
    /// Orderable; defaults to true.
    #[serde(default = "yes")]
    pub active: bool,
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
    /// At least 0.
    pub price_cents: i64,
    /// At least 0.
    pub stock: i32,
    /// Orderable.
    pub active: bool,
}

impl ProductDraft {
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
        if body.price_cents < 0 {
            return Err(invalid("price_cents must not be negative"));
        }
        if body.stock < 0 {
            return Err(invalid("stock must not be negative"));
        }
        Ok(Self {
            sku: Sku::parse(&body.sku)?,
            name,
            description: body.description,
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

    fn body() -> ProductBody {
        ProductBody {
            sku: " pz-1 ".into(),
            name: " Pizza ".into(),
            description: String::new(),
            category: " Mains ".into(),
            price_cents: 1200,
            stock: 3,
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
        b.stock = -1;
        assert!(ProductDraft::parse(b).is_err());
    }

    #[test]
    fn skus_with_spaces_or_symbols_are_refused() {
        assert!(Sku::parse("a b").is_err());
        assert!(Sku::parse("").is_err());
        assert!(Sku::parse("x$").is_err());
        assert!(Sku::parse(&"a".repeat(65)).is_err());
    }
}
