//! `GET /.well-known/jwks.json`: the token public key as a JWK set, so verifiers
//! (the gateway, other services) can fetch it instead of being configured with it.

use actix_web::{web, HttpResponse};
use anyhow::Context;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Value};

/// The JWK set served, computed once at start-up.
#[derive(Debug, Clone)]
pub struct Jwks(pub Value);

/// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the raw 32-byte key follows.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

impl Jwks {
    /// The set holding the Ed25519 public key in `pem` (an SPKI `PUBLIC KEY` block).
    pub fn from_public_pem(pem: &str) -> anyhow::Result<Self> {
        let body: String = pem
            .lines()
            .map(str::trim)
            .filter(|line| !line.starts_with("-----"))
            .collect();
        let der = STANDARD
            .decode(body)
            .context("the public key PEM is not base64")?;
        let key = der
            .strip_prefix(&ED25519_SPKI_PREFIX)
            .filter(|key| key.len() == 32)
            .context("the public key is not an Ed25519 SPKI key")?;
        Ok(Self(json!({
            "keys": [{
                "kty": "OKP",
                "crv": "Ed25519",
                "alg": "EdDSA",
                "use": "sig",
                "x": URL_SAFE_NO_PAD.encode(key),
            }]
        })))
    }
}

/// `GET /.well-known/jwks.json`.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    operation_id = "jwks",
    summary = "The token public key set",
    tag = "auth",
    responses((status = 200, description = "The JWK set: one Ed25519 (`OKP`) key, `alg` EdDSA.",
        body = Object)),
)]
pub async fn get(jwks: web::Data<Jwks>) -> HttpResponse {
    HttpResponse::Ok().json(&jwks.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dev_public_key_becomes_an_okp_jwk() {
        let jwks = Jwks::from_public_pem(comanda_kit::auth::DEV_PUBLIC_KEY_PEM).expect("parses");
        let key = &jwks.0["keys"][0];
        assert_eq!(key["kty"], "OKP");
        assert_eq!(key["crv"], "Ed25519");
        assert_eq!(key["x"].as_str().expect("x").len(), 43);
    }

    #[test]
    fn a_non_ed25519_key_is_refused() {
        assert!(Jwks::from_public_pem(
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"
        )
        .is_err());
    }
}
