//! The test cards and what each does when entered on a checkout page.

/// What entering a card does to the charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardOutcome {
    /// Captured at once.
    Succeeds,
    /// Refused at once, for this reason.
    Fails(super::FailureReason),
    /// Accepted for processing; captured after the configured delay.
    SucceedsLater,
}

/// A test card number (digits only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card(String);

/// The test cards: number, outcome.
pub const TEST_CARDS: [(&str, CardOutcome); 4] = [
    ("4242424242424242", CardOutcome::Succeeds),
    (
        "4000000000000002",
        CardOutcome::Fails(super::FailureReason::CardDeclined),
    ),
    (
        "4000000000009995",
        CardOutcome::Fails(super::FailureReason::InsufficientFunds),
    ),
    ("4000000000003220", CardOutcome::SucceedsLater),
];

impl Card {
    /// Parses a number as typed: spaces are allowed between digits, nothing else.
    pub fn parse(typed: &str) -> Option<Self> {
        let digits: String = typed.chars().filter(|c| *c != ' ').collect();
        let valid = (12..=19).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
        valid.then_some(Self(digits))
    }

    /// The outcome of this card, or `None` for a number that is not a test card (a
    /// test-mode processor never charges a real card).
    pub fn outcome(&self) -> Option<CardOutcome> {
        TEST_CARDS
            .iter()
            .find(|(number, _)| *number == self.0)
            .map(|(_, outcome)| *outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::FailureReason;

    #[test]
    fn test_cards_parse_with_spaces_and_have_their_outcomes() {
        let outcome = |typed: &str| Card::parse(typed).and_then(|card| card.outcome());
        assert_eq!(outcome("4242 4242 4242 4242"), Some(CardOutcome::Succeeds));
        assert_eq!(
            outcome("4000000000000002"),
            Some(CardOutcome::Fails(FailureReason::CardDeclined))
        );
        assert_eq!(
            outcome("4000 0000 0000 9995"),
            Some(CardOutcome::Fails(FailureReason::InsufficientFunds))
        );
        assert_eq!(
            outcome("4000 0000 0000 3220"),
            Some(CardOutcome::SucceedsLater)
        );
        assert_eq!(outcome("5555 5555 5555 4444"), None);
        assert_eq!(Card::parse("4242-4242-4242-4242"), None);
        assert_eq!(Card::parse(""), None);
    }
}
