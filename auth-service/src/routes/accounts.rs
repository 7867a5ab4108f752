//! `GET /api/v1/auth/accounts/{id}`: an account's status, for its owner and admins.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use comanda_kit::auth::AuthUser;
use comanda_kit::db::Pool;
use comanda_kit::problem::Problem;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::accounts::{self, Account};
use crate::domain::secret_token;

/// Header with the poll token a registration returned.
pub const POLL_TOKEN_HEADER: &str = "x-poll-token";

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
        (status = 401, description = "The bearer token is invalid: `invalid_token`.",
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
    let allowed = match &bearer {
        Some(user) => user.may_access(account.id),
        None => poll_token_matches(&req, &account),
    };
    if !allowed {
        return Err(not_found());
    }
    Ok(HttpResponse::Ok().json(AccountView::from(account)))
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
