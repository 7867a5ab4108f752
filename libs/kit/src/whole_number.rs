//! Integers of JSON bodies as JSON Schema counts them: `2` and `2.0` are the same integer.
//!
//! The OpenAPI documents (3.1, JSON Schema 2020-12) say `type: integer`, which every whole
//! number satisfies however it is spelled, and clients that hold numbers as doubles send
//! `2.0`. serde refuses a float for an integer field, so such a body was a 400 for a value
//! the document allows. A field opts in with
//! `#[serde(deserialize_with = "comanda_kit::whole_number::deserialize")]` (or
//! `whole_number::option::deserialize` for an `Option`); a fraction, or a number outside
//! the field's type, is still refused.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// Deserializes an integer of type `T` from a JSON integer or a whole float.
pub fn deserialize<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64>,
{
    let n = deserializer.deserialize_any(Whole)?;
    T::try_from(n).map_err(|_| de::Error::custom(format!("integer {n} is out of range")))
}

/// [`deserialize`](super::whole_number::deserialize) for an `Option` (`null` is `None`).
pub mod option {
    use serde::{Deserialize, Deserializer};

    /// Deserializes `null` as `None`, a JSON integer or whole float as `Some`.
    pub fn deserialize<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: TryFrom<i64>,
    {
        Ok(Option::<super::Integer<T>>::deserialize(deserializer)?.map(|n| n.0))
    }
}

/// An integer read with [`deserialize`].
struct Integer<T>(T);

impl<'de, T: TryFrom<i64>> Deserialize<'de> for Integer<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize(deserializer).map(Integer)
    }
}

struct Whole;

impl Visitor<'_> for Whole {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer")
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<i64, E> {
        Ok(n)
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<i64, E> {
        i64::try_from(n).map_err(|_| E::custom(format!("integer {n} is out of range")))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<i64, E> {
        // 2^63 is exact as a float; every whole float below it converts exactly.
        const BOUND: f64 = 9_223_372_036_854_775_808.0;
        if n.fract() == 0.0 && (-BOUND..BOUND).contains(&n) {
            #[allow(clippy::cast_possible_truncation)]
            return Ok(n as i64);
        }
        Err(E::invalid_type(de::Unexpected::Float(n), &self))
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Body {
        #[serde(deserialize_with = "super::deserialize")]
        n: i32,
        #[serde(default, deserialize_with = "super::option::deserialize")]
        m: Option<i64>,
    }

    fn parse(json: &str) -> Result<Body, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn whole_floats_are_integers_and_fractions_are_not() {
        let body = parse(r#"{"n": -2.0, "m": 1e3}"#).expect("whole numbers");
        assert_eq!((body.n, body.m), (-2, Some(1000)));
        let body = parse(r#"{"n": 7, "m": null}"#).expect("plain integers");
        assert_eq!((body.n, body.m), (7, None));
        assert_eq!(parse(r#"{"n": 7}"#).expect("m left out").m, None);
        for refused in [
            r#"{"n": 0.5}"#,
            r#"{"n": 3e9}"#,
            r#"{"n": 1, "m": 1e19}"#,
            r#"{"n": 1, "m": 18446744073709551615}"#,
            r#"{"n": "1"}"#,
            r#"{"n": true}"#,
        ] {
            assert!(parse(refused).is_err(), "{refused}");
        }
    }
}
