//! Access tokens for tests: valid ones signed with the dev key, and the forgeries
//! every protected route must refuse.

use std::time::Duration;

use comanda_kit::auth::{self, Claims, JwtSigner, Role};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use uuid::Uuid;

/// An Ed25519 key that is not Comanda's (generated for tests only).
const OTHER_PRIVATE_KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIB3x2bq4oJ8gk0s0yW6YxJ8Yb0sQe3h1b7s3XzJ3m1aK\n-----END PRIVATE KEY-----\n";

fn signer() -> JwtSigner {
    JwtSigner::from_private_pem(
        auth::DEV_PRIVATE_KEY_PEM,
        auth::DEFAULT_ISSUER,
        auth::DEFAULT_AUDIENCE,
        Duration::from_secs(300),
    )
    .expect("the dev private key parses")
}

fn encode(claims: &Claims, pem: &str) -> String {
    let key = EncodingKey::from_ed_pem(pem.as_bytes()).expect("an Ed25519 private key");
    jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), claims, &key).expect("encodes")
}

/// A valid access token for `id` with `roles` (dev key, default issuer and audience).
pub fn valid(id: Uuid, roles: &[Role]) -> String {
    signer().sign(id, roles).expect("signs").0
}

/// Tokens for `id` that must all be refused, named: expired, tampered (payload
/// swapped for an admin's), signed with a foreign key, and `alg: none`.
pub fn forged(id: Uuid) -> Vec<(&'static str, String)> {
    let (genuine, claims) = signer().sign(id, &[Role::User]).expect("signs");
    let now = chrono::Utc::now().timestamp();
    let expired = Claims {
        iat: now - 600,
        exp: now - 300,
        ..claims.clone()
    };
    let admin = Claims {
        roles: vec![Role::Admin],
        ..claims
    };
    let admin_token = encode(&admin, auth::DEV_PRIVATE_KEY_PEM);
    let admin_payload = admin_token.split('.').nth(1).expect("a payload");
    let mut parts: Vec<&str> = genuine.split('.').collect();
    parts[1] = admin_payload;
    vec![
        ("expired", encode(&expired, auth::DEV_PRIVATE_KEY_PEM)),
        ("tampered", parts.join(".")),
        ("foreign key", encode(&admin, OTHER_PRIVATE_KEY_PEM)),
        // {"alg":"none","typ":"JWT"}, no signature.
        (
            "alg none",
            format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{admin_payload}."),
        ),
    ]
}
