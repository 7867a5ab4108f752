//! The `Sandbox-Signature` header of the provider's webhooks, checked before the body
//! is parsed.
//!
//! `Sandbox-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`,
//! with one `v1` per secret the provider signs with (several during a rotation). A
//! delivery is genuine when any `v1` is the MAC of the signed payload under any secret
//! configured here; the MACs are compared in constant time (`hmac`'s `verify_slice`),
//! so a forger learns nothing from how long a refusal takes. A genuine signature whose
//! timestamp is more than the tolerance away from now is refused too: it is a replay
//! of an old delivery (or a clock that is far off).

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// The header carrying the signature.
pub const HEADER: &str = "Sandbox-Signature";

type HmacSha256 = Hmac<Sha256>;

/// Why a delivery's signature was refused. Each has a stable problem code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No header, a header that does not parse, or no `v1` that matches.
    #[error("the signature does not match the body under any webhook secret")]
    Invalid,
    /// A matching signature whose timestamp is too far from now.
    #[error("the signature's timestamp is outside the tolerance")]
    Stale,
}

impl SignatureError {
    /// The problem code answered for it.
    pub fn code(self) -> &'static str {
        match self {
            Self::Invalid => "invalid_signature",
            Self::Stale => "stale_signature",
        }
    }
}

/// The parts of a signature header.
struct Parsed {
    timestamp: i64,
    signatures: Vec<Vec<u8>>,
}

fn parse(header: &str) -> Option<Parsed> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let (key, value) = part.trim().split_once('=')?;
        match key {
            "t" if timestamp.is_none() => timestamp = Some(value.parse().ok()?),
            "t" => return None,
            "v1" => signatures.push(hex_decode(value)?),
            // Other schemes (a future `v2`) are not ours to check.
            _ => {}
        }
    }
    Some(Parsed {
        timestamp: timestamp?,
        signatures,
    })
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn mac(secret: &SecretString, timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length.
    let mut mac = HmacSha256::new_from_slice(secret.expose_secret().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Checks `header` (the `Sandbox-Signature` value, if any) against `body` under
/// `secrets`, at time `now`, allowing `tolerance_secs` of clock difference.
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secrets: &[SecretString],
    now: DateTime<Utc>,
    tolerance_secs: u64,
) -> Result<(), SignatureError> {
    let parsed = header.and_then(parse).ok_or(SignatureError::Invalid)?;
    let genuine = secrets.iter().any(|secret| {
        let expected = mac(secret, parsed.timestamp, body);
        parsed
            .signatures
            .iter()
            .any(|candidate| expected.clone().verify_slice(candidate).is_ok())
    });
    if !genuine {
        return Err(SignatureError::Invalid);
    }
    let age = now.timestamp().abs_diff(parsed.timestamp);
    if age > tolerance_secs {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header value the provider sends for `body` at `timestamp`, one `v1` per secret.
    fn hex_encode(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn sign(body: &[u8], secrets: &[SecretString], timestamp: i64) -> String {
        let mut header = format!("t={timestamp}");
        for secret in secrets {
            let tag = mac(secret, timestamp, body).finalize().into_bytes();
            header.push_str(",v1=");
            header.push_str(&hex_encode(&tag));
        }
        header
    }

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    const BODY: &[u8] = br#"{"id":"evt_1","type":"checkout.session.completed"}"#;

    #[test]
    fn a_body_signed_with_the_secret_now_is_genuine() {
        let secrets = [secret("s1")];
        let now = Utc::now();
        let header = sign(BODY, &secrets, now.timestamp());
        assert_eq!(verify(Some(&header), BODY, &secrets, now, 300), Ok(()));
    }

    #[test]
    fn the_signature_matches_the_documented_formula() {
        // printf '1700000000.{}' | openssl dgst -sha256 -hmac k
        let header = sign(b"{}", &[secret("k")], 1_700_000_000);
        assert_eq!(
            header,
            "t=1700000000,v1=c6ef4734033cee2367414a0939385eca0397754aa7a59716da7463a9298b5146"
        );
    }

    #[test]
    fn any_configured_secret_and_any_v1_may_match() {
        let now = Utc::now();
        let header = sign(BODY, &[secret("other"), secret("new")], now.timestamp());
        let ours = [secret("old"), secret("new")];
        assert_eq!(verify(Some(&header), BODY, &ours, now, 300), Ok(()));
    }

    #[test]
    fn a_body_changed_after_signing_is_invalid() {
        let secrets = [secret("s1")];
        let now = Utc::now();
        let header = sign(BODY, &secrets, now.timestamp());
        let tampered = br#"{"id":"evt_2","type":"checkout.session.completed"}"#;
        assert_eq!(
            verify(Some(&header), tampered, &secrets, now, 300),
            Err(SignatureError::Invalid)
        );
    }

    #[test]
    fn a_signature_under_a_retired_secret_is_invalid() {
        let now = Utc::now();
        let header = sign(BODY, &[secret("retired")], now.timestamp());
        assert_eq!(
            verify(Some(&header), BODY, &[secret("current")], now, 300),
            Err(SignatureError::Invalid)
        );
    }

    #[test]
    fn a_genuine_signature_older_or_newer_than_the_tolerance_is_stale() {
        let secrets = [secret("s1")];
        let now = Utc::now();
        for skew in [-301, 301] {
            let header = sign(BODY, &secrets, now.timestamp() + skew);
            assert_eq!(
                verify(Some(&header), BODY, &secrets, now, 300),
                Err(SignatureError::Stale),
                "{skew}"
            );
        }
        let edge = sign(BODY, &secrets, now.timestamp() - 300);
        assert_eq!(verify(Some(&edge), BODY, &secrets, now, 300), Ok(()));
    }

    #[test]
    fn a_stale_timestamp_on_a_forged_signature_is_invalid_not_stale() {
        let now = Utc::now();
        let header = sign(BODY, &[secret("forger")], now.timestamp() - 10_000);
        assert_eq!(
            verify(Some(&header), BODY, &[secret("s1")], now, 300),
            Err(SignatureError::Invalid)
        );
    }

    #[test]
    fn missing_or_malformed_headers_are_invalid() {
        let secrets = [secret("s1")];
        let now = Utc::now();
        let good = sign(BODY, &secrets, now.timestamp());
        let v1 = good.split_once(",v1=").map(|(_, v)| v).unwrap_or_default();
        for header in [
            None,
            Some(String::new()),
            Some("garbage".to_owned()),
            Some(format!("v1={v1}")),
            Some(format!("t=abc,v1={v1}")),
            Some(format!("t={0},t={0},v1={v1}", now.timestamp())),
            Some(format!("t={},v1=zz{}", now.timestamp(), &v1[2..])),
            Some(format!("t={},v1={}", now.timestamp(), &v1[1..])),
            Some(format!("t={}", now.timestamp())),
        ] {
            assert_eq!(
                verify(header.as_deref(), BODY, &secrets, now, 300),
                Err(SignatureError::Invalid),
                "{header:?}"
            );
        }
    }

    #[test]
    fn no_configured_secret_accepts_nothing() {
        let now = Utc::now();
        let header = sign(BODY, &[secret("s1")], now.timestamp());
        assert_eq!(
            verify(Some(&header), BODY, &[], now, 300),
            Err(SignatureError::Invalid)
        );
    }
}
