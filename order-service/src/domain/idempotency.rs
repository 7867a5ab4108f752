//! `Idempotency-Key`: a client's name for one attempt to create an order, so a retry
//! after a lost response cannot order twice.

use comanda_kit::problem::Problem;
use sha2::{Digest, Sha256};

use super::new_order::NewOrder;

/// The request header.
pub const HEADER: &str = "idempotency-key";

/// A key as sent: 1–255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Parses the header value; anything else is a 400 `invalid_idempotency_key`.
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let valid = (1..=255).contains(&raw.len()) && raw.chars().all(|c| c.is_ascii_graphic());
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Problem::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key must be 1-255 visible ASCII characters",
            ))
        }
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// SHA-256 (hex) of the parsed request: the same lines in any order hash the same.
pub fn request_hash(order: &NewOrder) -> String {
    // Serialising a struct of plain fields cannot fail.
    let canonical = serde_json::to_vec(order).unwrap_or_default();
    format!("{:x}", Sha256::digest(&canonical))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::new_order::{LineBody, NewOrderBody};
    use uuid::Uuid;

    fn order(lines: &[(Uuid, i64)]) -> NewOrder {
        NewOrder::parse(NewOrderBody {
            lines: lines
                .iter()
                .map(|&(product_id, quantity)| LineBody {
                    product_id,
                    quantity,
                })
                .collect(),
        })
        .expect("valid")
    }

    #[test]
    fn the_same_lines_hash_the_same_and_other_lines_do_not() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(
            request_hash(&order(&[(a, 1), (b, 2)])),
            request_hash(&order(&[(b, 2), (a, 1)]))
        );
        assert_ne!(
            request_hash(&order(&[(a, 1)])),
            request_hash(&order(&[(a, 2)]))
        );
    }

    #[test]
    fn keys_must_be_short_visible_ascii() {
        assert!(IdempotencyKey::parse("order-2026-11-25-1").is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("with space").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
    }
}
