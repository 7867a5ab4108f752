//! An order's total: the sum of its lines at their reserved prices, computed checked.
//!
//! New prices are bounded by product-service and quantities here (1–1,000 units, 1–50
//! lines), so a total is at most 5 × 10^13 cents. The sum is still checked: a price
//! stored before the bound, or sent by a faulty producer, must reject the order, not
//! panic or dead-letter the reply and leave the order PENDING.

/// A total that does not fit in an `i64` of cents, or a negative price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the order's total is out of range")]
pub struct TotalOutOfRange;

/// The sum of `unit_price_cents × quantity` over `lines`.
pub fn total(lines: impl IntoIterator<Item = (i64, i32)>) -> Result<i64, TotalOutOfRange> {
    lines
        .into_iter()
        .try_fold(0i64, |sum, (unit_price_cents, quantity)| {
            if unit_price_cents < 0 || quantity < 0 {
                return None;
            }
            unit_price_cents
                .checked_mul(i64::from(quantity))
                .and_then(|cost| sum.checked_add(cost))
        })
        .ok_or(TotalOutOfRange)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_total_is_the_sum_of_price_times_quantity() {
        assert_eq!(total([(1150, 2), (300, 3)]), Ok(3200));
        assert_eq!(total([]), Ok(0));
    }

    #[test]
    fn the_largest_order_of_the_largest_prices_fits() {
        // 50 lines × 1,000 units × 1,000,000,000 cents, product-service's bound.
        let lines = std::iter::repeat_n((1_000_000_000, 1000), 50);
        assert_eq!(total(lines), Ok(50_000_000_000_000));
    }

    #[test]
    fn an_overflowing_product_or_sum_or_a_negative_price_is_out_of_range() {
        assert_eq!(total([(i64::MAX, 2)]), Err(TotalOutOfRange));
        assert_eq!(total([(i64::MAX, 1), (1, 1)]), Err(TotalOutOfRange));
        assert_eq!(total([(-1, 1)]), Err(TotalOutOfRange));
    }
}
