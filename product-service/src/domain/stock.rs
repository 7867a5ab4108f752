//! Stock adjustments: an admin's signed change of a product's units on hand.
//!
//! A delta commutes with the reservations and releases that move the same stock, so
//! an adjustment made while orders come and go never erases one of them, unlike an
//! absolute count written back from an earlier read (issue #12 item 3).

use comanda_kit::problem::Problem;
use comanda_kit::text::Text;
use serde::Deserialize;

use super::product::MAX_STOCK;

/// The body of `POST /api/v1/products/{id}/stock-adjustments`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct StockAdjustmentBody {
    /// Units to add (positive: a delivery) or take (negative: breakage, a count found
    /// short); not 0, at most 1,000,000,000 either way.
    #[schema(schema_with = delta_schema, example = -2)]
    #[serde(deserialize_with = "comanda_kit::whole_number::deserialize")]
    pub delta: i32,
    /// Why, for the history: 1-200 characters.
    #[schema(example = "two broken in the stock room", schema_with = reason_schema)]
    pub reason: Text,
}

/// -1,000,000,000 to -1 or 1 to 1,000,000,000: a delta of 0 changes nothing and is refused.
fn delta_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type};
    let range = |min: i32, max: i32| {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
            .minimum(Some(min))
            .maximum(Some(max))
    };
    OneOfBuilder::new()
        .item(range(-MAX_STOCK, -1))
        .item(range(1, MAX_STOCK))
        .build()
        .into()
}

fn reason_schema() -> utoipa::openapi::schema::Object {
    comanda_kit::text::trimmed_text_schema(200)
}

/// An adjustment that passed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adjustment {
    /// Non-zero, in `-MAX_STOCK..=MAX_STOCK`.
    pub delta: i32,
    /// Trimmed, 1-200 characters.
    pub reason: String,
}

impl Adjustment {
    /// Validates `body`; a broken rule is a 400 `invalid_adjustment`.
    pub fn parse(body: StockAdjustmentBody) -> Result<Self, Problem> {
        if body.delta == 0 || !(-MAX_STOCK..=MAX_STOCK).contains(&body.delta) {
            return Err(invalid(&format!(
                "delta must be non-zero and at most {MAX_STOCK} either way"
            )));
        }
        let reason = body.reason.trim().to_owned();
        if reason.is_empty() || reason.chars().count() > 200 {
            return Err(invalid("reason must be 1-200 characters"));
        }
        Ok(Self {
            delta: body.delta,
            reason,
        })
    }

    /// The stock after this adjustment of `stock`: never below 0 (409
    /// `insufficient_stock`) nor above [`MAX_STOCK`] (409 `stock_limit_exceeded`).
    pub fn apply(&self, stock: i32) -> Result<i32, Problem> {
        let after = i64::from(stock) + i64::from(self.delta);
        if after < 0 {
            return Err(Problem::conflict(
                "insufficient_stock",
                format!(
                    "{stock} units on hand: taking {} would leave {after}",
                    -self.delta
                ),
            ));
        }
        i32::try_from(after)
            .ok()
            .filter(|after| *after <= MAX_STOCK)
            .ok_or_else(|| {
                Problem::conflict(
                    "stock_limit_exceeded",
                    format!(
                        "{stock} units on hand: adding {} would pass {MAX_STOCK}",
                        self.delta
                    ),
                )
            })
    }
}

fn invalid(detail: &str) -> Problem {
    Problem::bad_request("invalid_adjustment", detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delta_spelled_with_a_fraction_is_the_integer_it_names() {
        let body: StockAdjustmentBody =
            serde_json::from_str(r#"{"delta": -2.0, "reason": "broken"}"#).expect("a body");
        assert_eq!(body.delta, -2);
        assert!(
            serde_json::from_str::<StockAdjustmentBody>(r#"{"delta": 0.5, "reason": "x"}"#)
                .is_err()
        );
    }

    fn body(delta: i32, reason: &str) -> StockAdjustmentBody {
        StockAdjustmentBody {
            delta,
            reason: Text::parse(reason).expect("text"),
        }
    }

    #[test]
    fn zero_out_of_range_and_reasonless_adjustments_are_refused() {
        for bad in [
            body(0, "x"),
            body(MAX_STOCK + 1, "x"),
            body(-MAX_STOCK - 1, "x"),
        ] {
            assert_eq!(
                Adjustment::parse(bad).expect_err("bad").code,
                "invalid_adjustment"
            );
        }
        assert!(Adjustment::parse(body(1, "  ")).is_err());
        assert!(Adjustment::parse(body(1, &"r".repeat(201))).is_err());
        let ok = Adjustment::parse(body(-2, " broken ")).expect("valid");
        assert_eq!(ok.reason, "broken");
    }

    #[test]
    fn an_adjustment_never_leaves_stock_below_zero_or_above_the_maximum() {
        let take = Adjustment::parse(body(-3, "count")).expect("valid");
        assert_eq!(take.apply(3), Ok(0));
        assert_eq!(take.apply(2).expect_err("short").code, "insufficient_stock");
        let add = Adjustment::parse(body(MAX_STOCK, "delivery")).expect("valid");
        assert_eq!(add.apply(0), Ok(MAX_STOCK));
        assert_eq!(
            add.apply(1).expect_err("too many").code,
            "stock_limit_exceeded"
        );
    }
}
