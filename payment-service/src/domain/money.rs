//! Money: integer cents of a currency (ISO 4217 code), parsed once at the edge.

use std::fmt;

/// An ISO 4217 currency code: three upper-case ASCII letters (`EUR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency([u8; 3]);

/// The currency of an order that names none.
pub const DEFAULT_CURRENCY: Currency = Currency(*b"EUR");

impl Currency {
    /// `code` if it is three upper-case ASCII letters.
    pub fn parse(code: &str) -> Result<Self, InvalidMoney> {
        match code.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_uppercase) => Ok(Self([a, b, c])),
            _ => Err(InvalidMoney::Currency(code.to_owned())),
        }
    }

    /// The code, e.g. `EUR`.
    pub fn as_str(&self) -> &str {
        // Three ASCII letters by construction.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A positive amount of cents of one currency: what a payment charges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount {
    /// Cents, at least 1.
    pub cents: i64,
    /// Its currency.
    pub currency: Currency,
}

impl Amount {
    /// `cents` of `currency` (EUR when `None`), if `cents` is positive and the code valid.
    pub fn parse(cents: i64, currency: Option<&str>) -> Result<Self, InvalidMoney> {
        if cents <= 0 {
            return Err(InvalidMoney::NotPositive(cents));
        }
        let currency = currency.map_or(Ok(DEFAULT_CURRENCY), Currency::parse)?;
        Ok(Self { cents, currency })
    }
}

/// Why an amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidMoney {
    /// Nothing to charge (or a negative charge).
    #[error("the amount must be a positive number of cents, not {0}")]
    NotPositive(i64),
    /// Not an ISO 4217 code.
    #[error("the currency must be three upper-case letters (ISO 4217), not {0:?}")]
    Currency(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_amount_is_positive_cents_of_a_three_letter_currency_euro_by_default() {
        let amount = Amount::parse(1250, None).expect("valid");
        assert_eq!(amount.cents, 1250);
        assert_eq!(amount.currency.as_str(), "EUR");
        assert_eq!(
            Amount::parse(5, Some("USD")).map(|a| a.currency.to_string()),
            Ok("USD".to_owned())
        );
    }

    #[test]
    fn zero_negative_amounts_and_odd_currencies_are_refused() {
        assert!(Amount::parse(0, None).is_err());
        assert!(Amount::parse(-1, None).is_err());
        for code in ["eur", "EU", "EURO", "E1R", "", "ÉUR"] {
            assert!(Currency::parse(code).is_err(), "{code:?}");
        }
    }
}
