//! Issuing a session: a short-lived access JWT plus a rotating opaque refresh token.

use std::time::Duration;

use comanda_kit::auth::{JwtSigner, Role};
use comanda_kit::problem::Problem;
use diesel_async::AsyncPgConnection;
use serde::Serialize;
use uuid::Uuid;

use crate::db::accounts::Account;
use crate::db::refresh_tokens;
use crate::domain::secret_token;

/// What signs sessions, shared by the login and refresh handlers.
#[derive(Clone)]
pub struct Issuer {
    /// Signs access tokens (it knows their lifetime).
    pub signer: JwtSigner,
    /// Lifetime of access tokens, reported to clients as `expires_in`.
    pub access_ttl: Duration,
    /// Lifetime of refresh tokens.
    pub refresh_ttl: Duration,
}

/// The body of a successful login or refresh.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Session {
    /// The access JWT, for `Authorization: Bearer`.
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The opaque refresh token; single use.
    pub refresh_token: String,
    /// Seconds until the refresh token expires.
    pub refresh_expires_in: u64,
}

/// The roles of `account` as the token states them.
pub fn roles(account: &Account) -> Vec<Role> {
    match account.role.as_str() {
        "ADMIN" => vec![Role::Admin],
        _ => vec![Role::User],
    }
}

impl Issuer {
    /// Stores a new refresh token of `family` for `account` and signs an access token.
    /// Call it inside the transaction that created or rotated the family.
    pub async fn issue(
        &self,
        conn: &mut AsyncPgConnection,
        account: &Account,
        family: Uuid,
    ) -> Result<Session, Problem> {
        let refresh = secret_token::generate();
        let expires_at = chrono::Utc::now() + self.refresh_ttl;
        refresh_tokens::insert(conn, account.id, family, &refresh.digest, expires_at).await?;
        let (access_token, _) = self
            .signer
            .sign(account.id, &roles(account))
            .map_err(Problem::internal)?;
        Ok(Session {
            access_token,
            token_type: "Bearer",
            expires_in: self.access_ttl.as_secs(),
            refresh_token: refresh.token,
            refresh_expires_in: self.refresh_ttl.as_secs(),
        })
    }
}
