//! `GET /api/v1/auth/accounts/{id}`: an account's status, for its owner and admins.
//!
//! The registrant reads it with the poll token the registration returned. That token
//! is a bearer secret that can only be spent on waiting: it answers while the account
//! is PENDING, once more with the settled account (ACTIVE or REJECTED), and never
//! after `auth.poll_token_ttl_secs` (15 min) from the registration.

use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use comanda_kit::auth::AuthUser;
use comanda_kit::db::Pool;
use comanda_kit::problem::Problem;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::accounts::{self, Account};
use crate::domain::account::Status;
use crate::domain::secret_token;

/// Header with the poll token a registration returned.
pub const POLL_TOKEN_HEADER: &str = "x-poll-token";

/// How long a poll token lives after its registration (`auth.poll_token_ttl_secs`).
#[derive(Debug, Clone, Copy)]
pub struct PollTokenTtl(pub Duration);

/// What the owner sees of an account.
#[derive(Serialize, ToSchema)]
#[schema(as = Account)]
struct AccountView {
    id: Uuid,
    email: String,
    /// `USER` or `ADMIN`.
    #[schema(example = "USER")]
    role: String,
    /// `PENDING`, `ACTIVE` or `REJECTED`.
    #[schema(example = "ACTIVE")]
    status: String,
    /// Why the registration was rejected (REJECTED only).
    rejection_reason: Option<String>,
}

impl From<Account> for AccountView {
    fn from(account: Account) -> Self {
        Self {
            id: account.id,
            email: account.email,
            role: account.role,
            status: account.status,
            rejection_reason: account.rejection_reason,
        }
    }
}

/// `GET /api/v1/auth/accounts/{id}`: the account for its owner or an admin (bearer
/// token), or for the registrant (`X-Poll-Token`, since a PENDING account cannot
/// log in yet). Everyone else gets a 404, so ids cannot be probed.
#[utoipa::path(
    get,
    path = "/api/v1/auth/accounts/{id}",
    operation_id = "get_account",
    summary = "An account's status",
    tag = "auth",
    params(
        ("id" = Uuid, Path, description = "The account id"),
        ("X-Poll-Token" = Option<String>, Header,
            description = "The registration's poll token, instead of a bearer token"),
    ),
    security((), ("bearer_auth" = [])),
    responses(
        (status = 200, description = "The account.", body = AccountView),
        (status = 400, description = "The id is not a UUID: `invalid_path`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The bearer token is invalid: `invalid_token`; or the \
            poll token is spent (its account has settled and was shown once) or older than \
            `auth.poll_token_ttl_secs`: `poll_token_expired`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account, or not the caller's: `not_found`.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(account_id = %id))]
pub async fn get(
    req: HttpRequest,
    caller: Result<AuthUser, Problem>,
    pool: web::Data<Pool>,
    ttl: web::Data<PollTokenTtl>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Problem> {
    let id = id.into_inner();
    let bearer = match caller {
        Ok(user) => Some(user),
        // A bad bearer token is a 401, as on every protected route.
        Err(problem) if req.headers().contains_key(header::AUTHORIZATION) => return Err(problem),
        Err(_) => None,
    };
    let not_found = || Problem::not_found("no such account");
    let mut conn = pool.get().await?;
    let account = accounts::find(&mut conn, id).await?.ok_or_else(not_found)?;
    match &bearer {
        Some(user) if user.may_access(account.id) => {}
        Some(_) => return Err(not_found()),
        None if poll_token_matches(&req, &account) => {
            let expires_at = account.created_at + ttl.0;
            if account.poll_token_spent_at.is_some() || expires_at <= chrono::Utc::now() {
                return Err(poll_token_expired(ttl.0));
            }
            // The settled account is shown once: that read spends the token. Of two
            // racing reads only one wins the update.
            if account.status != Status::Pending.as_str()
                && !accounts::spend_poll_token(&mut conn, account.id).await?
            {
                return Err(poll_token_expired(ttl.0));
            }
        }
        None => return Err(not_found()),
    }
    Ok(HttpResponse::Ok().json(AccountView::from(account)))
}

fn poll_token_expired(ttl: Duration) -> Problem {
    Problem::new(
        StatusCode::UNAUTHORIZED,
        "poll_token_expired",
        format!(
            "this poll token has expired: it shows the account until it has settled \
             (once) and for at most {} s after the registration; log in to see the account",
            ttl.as_secs()
        ),
    )
}

fn poll_token_matches(req: &HttpRequest, account: &Account) -> bool {
    let sent = req
        .headers()
        .get(POLL_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok());
    match (sent, &account.poll_token_hash) {
        (Some(token), Some(stored)) => secret_token::digest(token.trim()) == *stored,
        _ => false,
    }
}
