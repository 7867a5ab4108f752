//! Opaque secret tokens (refresh tokens, registration poll tokens).
//!
//! A token is 32 random bytes, base64url-encoded for the client; the database keeps
//! only its sha256, so a leaked table grants nothing. sha256 (not argon2) suffices:
//! the token has 256 bits of entropy, there is nothing to brute-force.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// A freshly generated token and the digest to store.
pub struct SecretToken {
    /// What the client gets.
    pub token: String,
    /// What the database keeps.
    pub digest: Vec<u8>,
}

/// Generates a random token.
pub fn generate() -> SecretToken {
    let mut bytes = [0_u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let digest = digest(&token);
    SecretToken { token, digest }
}

/// The stored form of `token`.
pub fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_stored_as_their_digest() {
        let first = generate();
        let second = generate();
        assert_ne!(first.token, second.token);
        assert_eq!(first.digest, digest(&first.token));
        assert_eq!(first.digest.len(), 32);
    }
}
