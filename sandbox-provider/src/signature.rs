//! The `Sandbox-Signature` header: `t=<unix>,v1=<hex>[,v1=<hex>…]`.
//!
//! Each `v1` is the hex HMAC-SHA256, under one signing secret, of `"<t>.<raw body>"`.
//! The sandbox signs with every configured secret so a receiver in the middle of a
//! rotation accepts the event under either its old or its new secret; the timestamp
//! is signed too, so a receiver can refuse a replayed (stale) event.
//!
//! This is the sandbox's side of the contract. payment-service verifies with its own
//! code (services share contracts, not code); its tests may sign with [`sign`] to
//! forge, re-sign or age webhooks.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Name of the header carrying the signature.
pub const HEADER: &str = "Sandbox-Signature";

type HmacSha256 = Hmac<Sha256>;

/// The hex HMAC-SHA256 of `"<t>.<body>"` under `secret`: one `v1` value.
pub fn digest(secret: &str, t: i64, body: &[u8]) -> String {
    hex(&mac(secret, t, body).finalize().into_bytes())
}

/// The whole header value for one secret: `t=<t>,v1=<digest>`.
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    sign_header(&[secret], t, body)
}

/// The whole header value with one `v1` per secret, in the order given.
pub fn sign_header<S: AsRef<str>>(secrets: &[S], t: i64, body: &[u8]) -> String {
    let mut header = format!("t={t}");
    for secret in secrets {
        header.push_str(",v1=");
        header.push_str(&digest(secret.as_ref(), t, body));
    }
    header
}

/// A parsed header: its timestamp and every `v1` signature (other schemes are skipped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// Unix seconds the sender signed at.
    pub t: i64,
    /// The `v1` signatures, decoded from hex.
    pub v1: Vec<Vec<u8>>,
}

/// Why a header does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// No `t=` element, or one that is not an integer.
    #[error("no valid timestamp (t=) in the signature header")]
    Timestamp,
    /// No `v1=` element that is valid hex.
    #[error("no valid v1 signature in the signature header")]
    NoSignature,
}

impl Signature {
    /// Parses `t=…,v1=…`; unknown elements and malformed `v1` values are ignored, a
    /// second `t` is refused (it would make the signed timestamp ambiguous).
    pub fn parse(header: &str) -> Result<Self, ParseError> {
        let mut t = None;
        let mut v1 = Vec::new();
        for element in header.split(',') {
            match element.trim().split_once('=') {
                Some(("t", value)) if t.is_none() => {
                    t = Some(value.parse().map_err(|_| ParseError::Timestamp)?);
                }
                Some(("t", _)) => return Err(ParseError::Timestamp),
                Some(("v1", value)) => v1.extend(unhex(value)),
                _ => {}
            }
        }
        let t = t.ok_or(ParseError::Timestamp)?;
        if v1.is_empty() {
            return Err(ParseError::NoSignature);
        }
        Ok(Self { t, v1 })
    }

    /// True when one of the `v1` signatures is `body`'s under `secret` (constant-time
    /// comparison). The timestamp's age is the caller's to check.
    pub fn matches(&self, secret: &str, body: &[u8]) -> bool {
        self.v1
            .iter()
            .any(|candidate| mac(secret, self.t, body).verify_slice(candidate).is_ok())
    }
}

fn mac(secret: &str, t: i64, body: &[u8]) -> HmacSha256 {
    // HMAC accepts a key of any length, so this cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_header_parses_and_matches_each_of_its_secrets() {
        let body = br#"{"id":"evt_1"}"#;
        let header = sign_header(&["old", "new"], 1_700_000_000, body);
        let parsed = Signature::parse(&header).expect("parses");
        assert_eq!(parsed.t, 1_700_000_000);
        assert_eq!(parsed.v1.len(), 2);
        assert!(parsed.matches("old", body));
        assert!(parsed.matches("new", body));
        assert!(!parsed.matches("other", body));
        assert!(!parsed.matches("new", br#"{"id":"evt_2"}"#));
    }

    #[test]
    fn the_digest_is_hmac_sha256_of_timestamp_dot_body() {
        // printf '1.{}' | openssl dgst -sha256 -hmac secret
        assert_eq!(
            digest("secret", 1, b"{}"),
            "1122767b193110cfec322b6f199b599edbf608ed087f2d27afb0b97d99523908"
        );
        assert_eq!(
            sign("secret", 1, b"{}"),
            "t=1,v1=1122767b193110cfec322b6f199b599edbf608ed087f2d27afb0b97d99523908"
        );
    }

    #[test]
    fn a_header_without_timestamp_or_signature_is_refused() {
        assert_eq!(Signature::parse("v1=00"), Err(ParseError::Timestamp));
        assert_eq!(Signature::parse("t=1"), Err(ParseError::NoSignature));
        assert_eq!(Signature::parse("t=1,v1=zz"), Err(ParseError::NoSignature));
        assert_eq!(Signature::parse("t=x,v1=00"), Err(ParseError::Timestamp));
        assert_eq!(
            Signature::parse("t=1,t=2,v1=00"),
            Err(ParseError::Timestamp)
        );
    }
}
