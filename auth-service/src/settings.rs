//! auth-service settings: the kit's service settings plus `[auth]` (keys, token
//! lifetimes), `[admin]` (the account bootstrapped at start-up), `[saga]` (how long
//! a registration waits for user-service) and `[hashing]` (password hashes at once).

use std::time::Duration;

use comanda_kit::auth::{self, AuthSettings, JwtSigner, JwtVerifier};
use comanda_kit::settings::{Env, ServiceSettings};
use comanda_outbox::deadline::SagaSettings;

use crate::hashing::HashingSettings;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The settings of auth-service.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `env`, `http`, `database`, `kafka`.
    pub service: ServiceSettings,
    /// Keys and token lifetimes.
    pub auth: TokenSettings,
    /// The administrator account.
    pub admin: AdminSettings,
    /// Profile-request timeout, attempts, and the deadline worker's poll interval.
    pub saga: SagaSettings,
    /// How many password hashes run at once, and how many requests may wait.
    pub hashing: HashingSettings,
}

/// `[auth]`: the Ed25519 key pair and token lifetimes.
#[derive(Clone, Deserialize)]
pub struct TokenSettings {
    /// PEM of the Ed25519 private key; empty means the dev key (dev and test only).
    #[serde(default = "empty_secret")]
    pub private_key_pem: SecretString,
    /// PEM of the matching public key; empty means the dev key (dev and test only).
    #[serde(default)]
    pub public_key_pem: String,
    /// `iss` of issued tokens.
    #[serde(default = "default_issuer")]
    pub issuer: String,
    /// `aud` of issued tokens.
    #[serde(default = "default_audience")]
    pub audience: String,
    /// Lifetime of access tokens, in seconds: short, since they cannot be revoked.
    #[serde(default = "default_access_ttl")]
    pub access_ttl_secs: u64,
    /// Lifetime of refresh tokens, in seconds.
    #[serde(default = "default_refresh_ttl")]
    pub refresh_ttl_secs: u64,
    /// Lifetime of a registration's poll token, in seconds from the registration; it
    /// is spent sooner by the first read that shows the settled account.
    #[serde(default = "default_poll_token_ttl")]
    pub poll_token_ttl_secs: u64,
}

impl std::fmt::Debug for TokenSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSettings")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("access_ttl_secs", &self.access_ttl_secs)
            .field("refresh_ttl_secs", &self.refresh_ttl_secs)
            .field("poll_token_ttl_secs", &self.poll_token_ttl_secs)
            .finish_non_exhaustive()
    }
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            private_key_pem: empty_secret(),
            public_key_pem: String::new(),
            issuer: default_issuer(),
            audience: default_audience(),
            access_ttl_secs: default_access_ttl(),
            refresh_ttl_secs: default_refresh_ttl(),
            poll_token_ttl_secs: default_poll_token_ttl(),
        }
    }
}

impl TokenSettings {
    /// The verifier's view of these settings.
    pub fn verification(&self) -> AuthSettings {
        AuthSettings {
            public_key_pem: self.public_key_pem.clone(),
            issuer: self.issuer.clone(),
            audience: self.audience.clone(),
        }
    }

    /// The signer and verifier; empty keys mean the dev pair. Outside `dev` and `test`
    /// the dev keys are refused, empty or pasted in, and so is a pair whose halves do
    /// not match (tokens it signed would be refused everywhere).
    pub fn keys(&self, env: Env) -> anyhow::Result<(JwtSigner, JwtVerifier)> {
        let private = self.private_key_pem.expose_secret();
        let private = if private.trim().is_empty() {
            anyhow::ensure!(
                env.allows_dev_secrets(),
                "auth.private_key_pem must be set in {env} (empty means the development key)"
            );
            auth::DEV_PRIVATE_KEY_PEM
        } else {
            private
        };
        anyhow::ensure!(
            env.allows_dev_secrets() || !auth::is_dev_private_key(private),
            "auth.private_key_pem is the committed development key, refused in {env}: \
             anyone could sign tokens with it"
        );
        let ttl = Duration::from_secs(self.access_ttl_secs);
        let signer = JwtSigner::from_private_pem(private, &self.issuer, &self.audience, ttl)?;
        let verifier = JwtVerifier::from_settings(&self.verification(), &env)?;
        let (probe, _) = signer.sign(uuid::Uuid::nil(), &[])?;
        anyhow::ensure!(
            verifier.verify(&probe).is_ok(),
            "auth.private_key_pem and auth.public_key_pem are not one key pair"
        );
        Ok((signer, verifier))
    }

    /// The public key PEM in use (the dev key when none is set).
    pub fn public_pem(&self) -> &str {
        if self.public_key_pem.trim().is_empty() {
            auth::DEV_PUBLIC_KEY_PEM
        } else {
            &self.public_key_pem
        }
    }
}

/// `[admin]`: the staff account created, ACTIVE, at start-up if missing.
#[derive(Clone, Deserialize)]
pub struct AdminSettings {
    /// Its email.
    pub email: String,
    /// Its password; the dev default is accepted in `dev` and `test` only.
    pub password: SecretString,
}

impl std::fmt::Debug for AdminSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminSettings")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// The dev admin password in `config/default.toml`; start-up refuses it in `prod`, in
/// the settings and in any stored admin account.
pub const DEV_ADMIN_PASSWORD: &str = "comanda-admin-dev";

impl Settings {
    /// Settings of a service under test: `service`, dev keys, the default admin.
    pub fn for_tests(service: ServiceSettings) -> Self {
        Self {
            service,
            auth: TokenSettings::default(),
            admin: AdminSettings {
                email: "admin@comanda.local".to_owned(),
                password: SecretString::from(DEV_ADMIN_PASSWORD),
            },
            saga: SagaSettings::default(),
            hashing: HashingSettings::default(),
        }
    }
}

fn empty_secret() -> SecretString {
    SecretString::from(String::new())
}

fn default_issuer() -> String {
    auth::DEFAULT_ISSUER.to_owned()
}

fn default_audience() -> String {
    auth::DEFAULT_AUDIENCE.to_owned()
}

fn default_access_ttl() -> u64 {
    15 * 60
}

fn default_refresh_ttl() -> u64 {
    14 * 24 * 60 * 60
}

/// 15 minutes: far longer than a registration takes (a stuck one is REJECTED after
/// 5 × 30 s), short enough that a leaked token soon opens nothing.
fn default_poll_token_ttl() -> u64 {
    15 * 60
}

/// The tables auth-service reads besides the kit's, read on their own so the kit's
/// `ServiceSettings` stays as is.
#[derive(Deserialize)]
struct Sections {
    #[serde(default)]
    auth: TokenSettings,
    admin: AdminSettings,
    #[serde(default)]
    saga: SagaSettings,
    #[serde(default)]
    hashing: HashingSettings,
}

/// Compiled-in defaults, enough for a local run.
pub const DEFAULTS: &str = include_str!("../config/default.toml");

/// Loads the defaults, then the `COMANDA_CONFIG` file, then `COMANDA__*` variables.
pub fn load() -> anyhow::Result<Settings> {
    let sections: Sections = comanda_kit::settings::load(DEFAULTS)?;
    Ok(Settings {
        service: comanda_kit::settings::load(DEFAULTS)?,
        auth: sections.auth,
        admin: sections.admin,
        saga: sections.saga,
        hashing: sections.hashing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_load_with_dev_keys_that_sign_and_verify() {
        let settings = load().expect("defaults load");
        let (signer, verifier) = settings.auth.keys(Env::Dev).expect("dev keys");
        let (token, _) = signer
            .sign(uuid::Uuid::now_v7(), &[auth::Role::User])
            .expect("signs");
        assert!(verifier.verify(&token).is_ok());
        assert!(!format!("{settings:?}").contains(DEV_ADMIN_PASSWORD));
    }

    #[test]
    fn dev_keys_are_refused_in_prod() {
        assert!(TokenSettings::default().keys(Env::Prod).is_err());
    }
}
