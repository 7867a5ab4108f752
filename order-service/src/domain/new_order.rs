//! An order request, parsed: 1–50 lines, quantities 1–1000, each product once.

use std::collections::HashSet;

use comanda_kit::problem::Problem;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Most lines one order may have.
pub const MAX_LINES: usize = 50;
/// Most units of one product per order.
pub const MAX_QUANTITY: i32 = 1000;

/// The body of `POST /api/v1/orders`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewOrderBody {
    /// What is ordered: 1 to 50 lines, each product once.
    #[schema(min_items = 1, max_items = 50)]
    pub lines: Vec<LineBody>,
}

/// One line as sent.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[schema(as = OrderLineBody)]
pub struct LineBody {
    /// The product.
    pub product_id: Uuid,
    /// Units, 1 to 1000 (any whole number parses, `2.0` too; [`NewOrder::parse`]
    /// validates).
    #[schema(example = 2, minimum = 1, maximum = 1000)]
    #[serde(deserialize_with = "comanda_kit::whole_number::deserialize")]
    pub quantity: i64,
}

/// A valid line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewLine {
    /// The product.
    pub product_id: Uuid,
    /// Units, in `1..=MAX_QUANTITY`.
    pub quantity: i32,
}

/// A valid order request; its lines are sorted by product id, so two requests with
/// the same lines in another order are the same request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewOrder {
    lines: Vec<NewLine>,
}

impl NewOrder {
    /// Validates `body`; the first broken rule is a 400 `invalid_order`.
    pub fn parse(body: NewOrderBody) -> Result<Self, Problem> {
        if body.lines.is_empty() || body.lines.len() > MAX_LINES {
            return Err(invalid(format!("an order has 1 to {MAX_LINES} lines")));
        }
        let mut seen = HashSet::new();
        let mut lines = Vec::with_capacity(body.lines.len());
        for line in body.lines {
            let quantity = i32::try_from(line.quantity)
                .ok()
                .filter(|q| (1..=MAX_QUANTITY).contains(q))
                .ok_or_else(|| invalid(format!("quantities are 1 to {MAX_QUANTITY}")))?;
            if !seen.insert(line.product_id) {
                return Err(invalid(format!(
                    "product {} appears on more than one line",
                    line.product_id
                )));
            }
            lines.push(NewLine {
                product_id: line.product_id,
                quantity,
            });
        }
        lines.sort_unstable_by_key(|l| l.product_id);
        Ok(Self { lines })
    }

    /// The lines, by product id.
    pub fn lines(&self) -> &[NewLine] {
        &self.lines
    }
}

fn invalid(detail: String) -> Problem {
    Problem::bad_request("invalid_order", detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(lines: &[(Uuid, i64)]) -> NewOrderBody {
        NewOrderBody {
            lines: lines
                .iter()
                .map(|&(product_id, quantity)| LineBody {
                    product_id,
                    quantity,
                })
                .collect(),
        }
    }

    #[test]
    fn valid_lines_are_kept_sorted_by_product() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let order = NewOrder::parse(body(&[(b, 2), (a, 1)])).expect("valid");
        assert_eq!(order.lines()[0].product_id, a);
        assert_eq!(
            order,
            NewOrder::parse(body(&[(a, 1), (b, 2)])).expect("valid")
        );
    }

    #[test]
    fn empty_and_oversized_orders_are_refused() {
        assert!(NewOrder::parse(body(&[])).is_err());
        let many: Vec<(Uuid, i64)> = (0..51).map(|_| (Uuid::new_v4(), 1)).collect();
        assert!(NewOrder::parse(body(&many)).is_err());
        let fifty: Vec<(Uuid, i64)> = (0..50).map(|_| (Uuid::new_v4(), 1)).collect();
        assert!(NewOrder::parse(body(&fifty)).is_ok());
    }

    #[test]
    fn quantities_outside_one_to_a_thousand_are_refused() {
        for quantity in [0, -1, 1001, i64::MAX] {
            let error = NewOrder::parse(body(&[(Uuid::now_v7(), quantity)])).expect_err("bad");
            assert_eq!(error.code, "invalid_order");
        }
        assert!(NewOrder::parse(body(&[(Uuid::now_v7(), 1000)])).is_ok());
    }

    #[test]
    fn a_product_on_two_lines_is_refused() {
        let a = Uuid::now_v7();
        assert!(NewOrder::parse(body(&[(a, 1), (a, 2)])).is_err());
    }
}
