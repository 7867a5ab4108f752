//! Access tokens: the claims, signing (auth-service only) and verification (every
//! service, defence in depth behind the gateway).
//!
//! Tokens are EdDSA (Ed25519) JWTs: only the holder of the private key — auth-service —
//! can mint them, while every service verifies with the public key. Verification
//! pins the algorithm, so `alg: none` and HMAC tokens forged with the public key as
//! secret are rejected, and requires `exp`, `iat`, `sub`, `iss`, `aud` and `jti`.

use std::future::{ready, Ready};
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest};
use anyhow::Context;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::problem::Problem;
use crate::settings::Env;

/// The development public key (see `keys/README.md`): never trust it in production.
pub const DEV_PUBLIC_KEY_PEM: &str = include_str!("../keys/dev-public.pem");
/// The development private key, for `cargo xtask up` and tests only.
pub const DEV_PRIVATE_KEY_PEM: &str = include_str!("../keys/dev-private.pem");
/// Default `iss` of Comanda tokens.
pub const DEFAULT_ISSUER: &str = "comanda-auth";
/// Default `aud` of Comanda tokens.
pub const DEFAULT_AUDIENCE: &str = "comanda";

/// What a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Role {
    /// A customer.
    User,
    /// Staff: may see and manage everything.
    Admin,
}

/// The claims of a Comanda access token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// The account id.
    pub sub: Uuid,
    /// The account's roles.
    pub roles: Vec<Role>,
    /// Expiry (seconds since the epoch).
    pub exp: i64,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Token id.
    pub jti: Uuid,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
}

/// Token settings every service reads (`[auth]`).
#[derive(Clone, Deserialize)]
pub struct AuthSettings {
    /// PEM of the Ed25519 public key; empty means the dev key (dev and test only).
    #[serde(default)]
    pub public_key_pem: String,
    /// Expected `iss`.
    #[serde(default = "default_issuer")]
    pub issuer: String,
    /// Expected `aud`.
    #[serde(default = "default_audience")]
    pub audience: String,
}

impl std::fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthSettings")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            public_key_pem: String::new(),
            issuer: default_issuer(),
            audience: default_audience(),
        }
    }
}

fn default_issuer() -> String {
    DEFAULT_ISSUER.to_owned()
}

fn default_audience() -> String {
    DEFAULT_AUDIENCE.to_owned()
}

/// Verifies access tokens. Register it as `web::Data<JwtVerifier>` to use [`AuthUser`].
#[derive(Clone)]
pub struct JwtVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl JwtVerifier {
    /// A verifier from settings; an empty key means the dev key. Outside `dev` and
    /// `test` the dev key is refused, empty or pasted in.
    pub fn from_settings(settings: &AuthSettings, env: &Env) -> anyhow::Result<Self> {
        let pem = if settings.public_key_pem.trim().is_empty() {
            anyhow::ensure!(
                env.allows_dev_secrets(),
                "auth.public_key_pem must be set in {env} (empty means the development key)"
            );
            DEV_PUBLIC_KEY_PEM
        } else {
            settings.public_key_pem.as_str()
        };
        anyhow::ensure!(
            env.allows_dev_secrets() || !is_dev_public_key(pem),
            "auth.public_key_pem is the committed development key, refused in {env}: \
             anyone can sign tokens it accepts"
        );
        Self::from_public_pem(pem, &settings.issuer, &settings.audience)
    }

    /// A verifier for tokens signed by the holder of `pem`'s private key.
    pub fn from_public_pem(pem: &str, issuer: &str, audience: &str) -> anyhow::Result<Self> {
        let key =
            DecodingKey::from_ed_pem(pem.as_bytes()).context("parsing the Ed25519 public key")?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        validation.leeway = 5;
        Ok(Self { key, validation })
    }

    /// The claims of `token` if it is genuine, unexpired and meant for us.
    pub fn verify(&self, token: &str) -> Result<Claims, jsonwebtoken::errors::Error> {
        jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation).map(|data| data.claims)
    }
}

/// True when `pem` is the development public key, however it is wrapped: the raw
/// key is compared, not the text.
pub fn is_dev_public_key(pem: &str) -> bool {
    let raw = |pem: &str| {
        DecodingKey::from_ed_pem(pem.as_bytes())
            .ok()
            .and_then(|key| key.try_get_as_bytes().ok().map(<[u8]>::to_vec))
    };
    matches!((raw(pem), raw(DEV_PUBLIC_KEY_PEM)), (Some(key), Some(dev)) if key == dev)
}

/// True when `pem` holds the development private key, however it is wrapped or
/// encoded (PKCS#8 v1 or v2): its 32-byte seed is looked for in the decoded key.
pub fn is_dev_private_key(pem: &str) -> bool {
    let Ok(dev) = EncodingKey::from_ed_pem(DEV_PRIVATE_KEY_PEM.as_bytes()) else {
        return false;
    };
    let dev = dev.as_bytes();
    let Some(seed) = dev.get(dev.len().saturating_sub(32)..) else {
        return false;
    };
    EncodingKey::from_ed_pem(pem.as_bytes())
        .map(|key| key.as_bytes().windows(32).any(|window| window == seed))
        .unwrap_or(false)
}

/// Mints access tokens (auth-service, and tests with the dev key).
#[derive(Clone)]
pub struct JwtSigner {
    key: EncodingKey,
    issuer: String,
    audience: String,
    ttl: Duration,
}

impl JwtSigner {
    /// A signer with the Ed25519 private key in `pem`, issuing tokens valid for `ttl`.
    pub fn from_private_pem(
        pem: &str,
        issuer: &str,
        audience: &str,
        ttl: Duration,
    ) -> anyhow::Result<Self> {
        let key =
            EncodingKey::from_ed_pem(pem.as_bytes()).context("parsing the Ed25519 private key")?;
        Ok(Self {
            key,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            ttl,
        })
    }

    /// A signed token for account `sub` with `roles`, and its claims.
    pub fn sign(&self, sub: Uuid, roles: &[Role]) -> anyhow::Result<(String, Claims)> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub,
            roles: roles.to_vec(),
            iat: now,
            exp: now + self.ttl.as_secs() as i64,
            jti: Uuid::now_v7(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims, &self.key)?;
        Ok((token, claims))
    }
}

/// The verified caller of a request (`Authorization: Bearer <access token>`).
///
/// Missing or invalid tokens answer 401 problem+json (`unauthorized`,
/// `invalid_token`) before the handler runs.
#[derive(Debug, Clone)]
pub struct AuthUser {
    /// The account id (`sub`).
    pub id: Uuid,
    /// All verified claims.
    pub claims: Claims,
}

impl AuthUser {
    /// True for staff.
    pub fn is_admin(&self) -> bool {
        self.claims.roles.contains(&Role::Admin)
    }

    /// 403 `forbidden` unless the caller is an admin.
    pub fn require_admin(&self) -> Result<(), Problem> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(Problem::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "this needs the ADMIN role",
            ))
        }
    }

    /// True when the caller is `owner` or an admin.
    pub fn may_access(&self, owner: Uuid) -> bool {
        self.id == owner || self.is_admin()
    }
}

impl FromRequest for AuthUser {
    type Error = Problem;
    type Future = Ready<Result<Self, Problem>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

fn authenticate(req: &HttpRequest) -> Result<AuthUser, Problem> {
    let Some(verifier) = req.app_data::<web::Data<JwtVerifier>>() else {
        return Err(Problem::internal(
            "no JwtVerifier registered for an authenticated route",
        ));
    };
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            unauthorized("unauthorized", "an Authorization: Bearer token is required")
        })?;
    let token = header.strip_prefix("Bearer ").ok_or_else(|| {
        unauthorized("unauthorized", "an Authorization: Bearer token is required")
    })?;
    let claims = verifier.verify(token.trim()).map_err(|error| {
        let detail = match error.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => "the token has expired",
            _ => "the token is not valid",
        };
        unauthorized("invalid_token", detail)
    })?;
    Ok(AuthUser {
        id: claims.sub,
        claims,
    })
}

fn unauthorized(code: &'static str, detail: &str) -> Problem {
    Problem::new(StatusCode::UNAUTHORIZED, code, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (JwtSigner, JwtVerifier) {
        let signer = JwtSigner::from_private_pem(
            DEV_PRIVATE_KEY_PEM,
            DEFAULT_ISSUER,
            DEFAULT_AUDIENCE,
            Duration::from_secs(60),
        )
        .expect("dev private key parses");
        let verifier =
            JwtVerifier::from_public_pem(DEV_PUBLIC_KEY_PEM, DEFAULT_ISSUER, DEFAULT_AUDIENCE)
                .expect("dev public key parses");
        (signer, verifier)
    }

    #[test]
    fn a_signed_token_verifies_with_its_claims() {
        let (signer, verifier) = pair();
        let id = Uuid::now_v7();
        let (token, claims) = signer.sign(id, &[Role::User, Role::Admin]).expect("signs");
        let verified = verifier.verify(&token).expect("verifies");
        assert_eq!(verified, claims);
        assert_eq!(verified.sub, id);
    }

    #[test]
    fn an_expired_token_is_rejected() {
        let (signer, verifier) = pair();
        let (_, mut claims) = signer.sign(Uuid::now_v7(), &[Role::User]).expect("signs");
        // Expired a minute ago: well past the 5 s leeway.
        claims.exp = chrono::Utc::now().timestamp() - 60;
        let token = jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims, &signer.key)
            .expect("encodes");
        let error = verifier.verify(&token).expect_err("expired");
        assert_eq!(
            error.kind(),
            &jsonwebtoken::errors::ErrorKind::ExpiredSignature
        );
    }

    #[test]
    fn a_token_with_a_tampered_payload_is_rejected() {
        let (signer, verifier) = pair();
        let (token, _) = signer.sign(Uuid::now_v7(), &[Role::User]).expect("signs");
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let admin = signer
            .sign(Uuid::now_v7(), &[Role::Admin])
            .expect("signs")
            .0;
        parts[1] = admin.split('.').nth(1).expect("payload").to_owned();
        assert!(verifier.verify(&parts.join(".")).is_err());
    }

    #[test]
    fn an_alg_none_token_is_rejected() {
        let (signer, verifier) = pair();
        let (token, _) = signer.sign(Uuid::now_v7(), &[Role::Admin]).expect("signs");
        let payload = token.split('.').nth(1).expect("payload");
        // {"alg":"none","typ":"JWT"}
        let forged = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
        assert!(verifier.verify(&forged).is_err());
    }

    #[test]
    fn a_token_from_another_key_is_rejected() {
        let (_, verifier) = pair();
        // A second Ed25519 key (generated for this test only).
        let other = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIB3x2bq4oJ8gk0s0yW6YxJ8Yb0sQe3h1b7s3XzJ3m1aK\n-----END PRIVATE KEY-----\n";
        let signer = JwtSigner::from_private_pem(
            other,
            DEFAULT_ISSUER,
            DEFAULT_AUDIENCE,
            Duration::from_secs(60),
        )
        .expect("other key parses");
        let (token, _) = signer.sign(Uuid::now_v7(), &[Role::User]).expect("signs");
        assert!(verifier.verify(&token).is_err());
    }

    /// An Ed25519 pair generated for this test only.
    const OTHER_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAYWknUgnLDsheTurO2WosLdOuO+dKiqkadFCPgfFjmDU=\n-----END PUBLIC KEY-----\n";
    const OTHER_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIPeq6dtqVLAVsyU29BMZPg7asVs5bH/F+vreFyOC1Yyq\n-----END PRIVATE KEY-----\n";

    #[test]
    fn the_dev_keys_are_recognised_however_they_are_wrapped() {
        let rewrapped = |pem: &str| format!("\n\n{}\r\n", pem.trim().replace('\n', "\r\n"));
        assert!(is_dev_public_key(DEV_PUBLIC_KEY_PEM));
        assert!(is_dev_public_key(&rewrapped(DEV_PUBLIC_KEY_PEM)));
        assert!(is_dev_private_key(DEV_PRIVATE_KEY_PEM));
        assert!(is_dev_private_key(&rewrapped(DEV_PRIVATE_KEY_PEM)));
        assert!(!is_dev_public_key(OTHER_PUBLIC));
        assert!(!is_dev_private_key(OTHER_PRIVATE));
        assert!(!is_dev_public_key("not a key"));
    }

    #[test]
    fn the_dev_public_key_verifies_only_in_dev_and_test() {
        let empty = AuthSettings::default();
        let pasted = AuthSettings {
            public_key_pem: DEV_PUBLIC_KEY_PEM.to_owned(),
            ..AuthSettings::default()
        };
        for settings in [&empty, &pasted] {
            assert!(JwtVerifier::from_settings(settings, &Env::Dev).is_ok());
            assert!(JwtVerifier::from_settings(settings, &Env::Test).is_ok());
            assert!(JwtVerifier::from_settings(settings, &Env::Prod).is_err());
        }
        let own = AuthSettings {
            public_key_pem: OTHER_PUBLIC.to_owned(),
            ..AuthSettings::default()
        };
        assert!(JwtVerifier::from_settings(&own, &Env::Prod).is_ok());
    }

    #[test]
    fn a_token_for_another_audience_is_rejected() {
        let (_, verifier) = pair();
        let signer = JwtSigner::from_private_pem(
            DEV_PRIVATE_KEY_PEM,
            DEFAULT_ISSUER,
            "elsewhere",
            Duration::from_secs(60),
        )
        .expect("signer");
        let (token, _) = signer.sign(Uuid::now_v7(), &[Role::User]).expect("signs");
        assert!(verifier.verify(&token).is_err());
    }
}
