//! Matching an order's lines against stock: all lines are reserved, or none.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One line of an order as product-service receives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestedLine {
    /// The product ordered.
    pub product_id: Uuid,
    /// Units ordered (positive).
    pub quantity: i32,
}

/// A product's state at reservation time, read under its row lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnHand {
    /// The product.
    pub product_id: Uuid,
    /// Its name now (snapshot for the order).
    pub name: String,
    /// Its price now (snapshot for the order).
    pub price_cents: i64,
    /// Units on hand.
    pub stock: i32,
    /// Whether it may be ordered.
    pub active: bool,
}

/// A line that will be held for the order, priced at reservation time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservedLine {
    /// The product.
    pub product_id: Uuid,
    /// Units held.
    pub quantity: i32,
    /// Price per unit when reserved.
    pub unit_price_cents: i64,
    /// Name when reserved.
    pub name: String,
}

/// Why a line cannot be reserved: it asks for more than is available.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shortfall {
    /// The product.
    pub product_id: Uuid,
    /// Units asked for.
    pub requested: i64,
    /// Units available (0 for an unknown or inactive product).
    pub available: i64,
}

/// Decides a reservation: every line reserved (in product id order, the lock order),
/// or every line that falls short.
///
/// Lines naming the same product twice are summed, so a sender that splits a line
/// cannot reserve more than there is. `on_hand` holds the products that exist; an
/// unknown or inactive product falls short with 0 available.
pub fn plan(
    requested: &[RequestedLine],
    on_hand: &[OnHand],
) -> Result<Vec<ReservedLine>, Vec<Shortfall>> {
    let mut wanted: BTreeMap<Uuid, i64> = BTreeMap::new();
    for line in requested {
        *wanted.entry(line.product_id).or_default() += i64::from(line.quantity);
    }
    let mut reserved = Vec::with_capacity(wanted.len());
    let mut shortfalls = Vec::new();
    for (product_id, quantity) in wanted {
        let product = on_hand
            .iter()
            .find(|p| p.product_id == product_id && p.active);
        let available = product.map_or(0, |p| i64::from(p.stock));
        match (product, i32::try_from(quantity)) {
            (Some(p), Ok(quantity)) if i64::from(quantity) <= available => {
                reserved.push(ReservedLine {
                    product_id,
                    quantity,
                    unit_price_cents: p.price_cents,
                    name: p.name.clone(),
                });
            }
            _ => shortfalls.push(Shortfall {
                product_id,
                requested: quantity,
                available,
            }),
        }
    }
    if shortfalls.is_empty() {
        Ok(reserved)
    } else {
        Err(shortfalls)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(stock: i32) -> OnHand {
        OnHand {
            product_id: Uuid::now_v7(),
            name: "Pizza".into(),
            price_cents: 1200,
            stock,
            active: true,
        }
    }

    fn line(p: &OnHand, quantity: i32) -> RequestedLine {
        RequestedLine {
            product_id: p.product_id,
            quantity,
        }
    }

    #[test]
    fn lines_within_stock_are_all_reserved_with_their_price() {
        let (a, b) = (product(2), product(5));
        let lines = plan(&[line(&b, 5), line(&a, 1)], &[a.clone(), b.clone()]).expect("fits");
        assert_eq!(lines.len(), 2);
        assert!(lines.windows(2).all(|w| w[0].product_id < w[1].product_id));
        assert!(lines.iter().all(|l| l.unit_price_cents == 1200));
    }

    #[test]
    fn one_short_line_fails_the_whole_order_naming_only_that_line() {
        let (a, b) = (product(2), product(5));
        let shortfalls = plan(&[line(&a, 1), line(&b, 6)], &[a, b.clone()]).expect_err("short");
        assert_eq!(
            shortfalls,
            vec![Shortfall {
                product_id: b.product_id,
                requested: 6,
                available: 5
            }]
        );
    }

    #[test]
    fn unknown_and_inactive_products_have_nothing_available() {
        let mut inactive = product(9);
        inactive.active = false;
        let unknown = product(9);
        let shortfalls =
            plan(&[line(&inactive, 1), line(&unknown, 1)], &[inactive]).expect_err("short");
        assert!(shortfalls.iter().all(|s| s.available == 0));
        assert_eq!(shortfalls.len(), 2);
    }

    #[test]
    fn repeated_lines_of_one_product_are_summed() {
        let a = product(3);
        let shortfalls = plan(&[line(&a, 2), line(&a, 2)], &[a]).expect_err("short");
        assert_eq!(shortfalls[0].requested, 4);
    }
}
