//! Sessions: `login`, `refresh` (rotation with reuse detection) and `logout`.
//!
//! Every failure of login is the same 401 `invalid_credentials`, whatever went wrong
//! (unknown email, wrong password, account not ACTIVE), so the endpoint does not
//! tell which emails have accounts. Unknown emails are verified against a decoy hash
//! so that timing does not tell either.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse, ResponseError};
use comanda_kit::db::Pool;
use comanda_kit::problem::Problem;
use diesel_async::AsyncConnection;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::{accounts, refresh_tokens};
use crate::domain::account::Status;
use crate::domain::registration::Email;
use crate::domain::{password, secret_token};
use crate::hashing::Hashing;
use crate::tokens::{Issuer, Session};

/// `POST /api/v1/auth/login` body.
#[derive(Deserialize, ToSchema)]
pub struct LoginBody {
    #[schema(example = "ann@example.com")]
    email: String,
    #[schema(example = "correct horse battery")]
    password: String,
}

/// `POST /api/v1/auth/refresh` and `/logout` body.
#[derive(Deserialize, ToSchema)]
pub struct RefreshBody {
    /// The refresh token of the last login or refresh.
    refresh_token: String,
}

fn invalid_credentials() -> Problem {
    Problem::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "the email or password is not valid",
    )
}

fn invalid_refresh_token() -> Problem {
    Problem::new(
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
        "the refresh token is not valid",
    )
}

/// `POST /api/v1/auth/login`: an access token and a refresh token starting a new family.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    operation_id = "login",
    summary = "Log in",
    tag = "auth",
    request_body = LoginBody,
    responses(
        (status = 200, description = "Signed in.", body = Session),
        (status = 400, description = "The body is not JSON of this shape: `invalid_json`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Unknown email, wrong password or an account that is \
            not ACTIVE, indistinguishably: `invalid_credentials`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts from this IP (gateway): `rate_limited`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Too many password checks at once: `busy`; retry after \
            `Retry-After` seconds.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn login(
    pool: web::Data<Pool>,
    issuer: web::Data<Issuer>,
    hashing: web::Data<Hashing>,
    body: web::Json<LoginBody>,
) -> Result<HttpResponse, Problem> {
    // Admitted before any other work, so a refusal under load costs nothing.
    let admission = match hashing.admit() {
        Ok(admission) => admission,
        Err(busy) => return Ok(busy.error_response()),
    };
    let body = body.into_inner();
    let account = match Email::parse(&body.email) {
        Ok(email) => accounts::find_by_email(&mut *pool.get().await?, email.as_str()).await?,
        Err(_) => None,
    };
    // Verified on a blocking thread, with no pooled connection held meanwhile.
    let hash = account.as_ref().map(|a| a.password_hash.clone());
    let matches = admission
        .run(move || {
            let hash = hash.as_deref().unwrap_or_else(|| password::decoy_hash());
            password::verify(&body.password, hash)
        })
        .await?;
    let account = match account {
        Some(account) if matches && account.status == Status::Active.as_str() => account,
        _ => return Err(invalid_credentials()),
    };
    let mut conn = pool.get().await?;
    let session = conn
        .transaction::<_, Problem, _>(async |conn| {
            issuer.issue(conn, &account, Uuid::now_v7()).await
        })
        .await?;
    tracing::info!(account_id = %account.id, "logged in");
    Ok(HttpResponse::Ok().json(session))
}

/// What presenting a refresh token led to.
enum Rotation {
    /// The token was current: here is the next session.
    Rotated(Session),
    /// Unknown, expired or revoked.
    Refused,
    /// Already exchanged once: someone holds a copy, so the family was revoked.
    Reused,
}

/// `POST /api/v1/auth/refresh`: exchanges a current refresh token for a new session
/// of the same family. Presenting an already used token revokes the whole family.
#[utoipa::path(
    post,
    path = "/api/v1/auth/refresh",
    operation_id = "refresh",
    summary = "Rotate a refresh token",
    tag = "auth",
    request_body = RefreshBody,
    responses(
        (status = 200, description = "The next session; the presented token is used up.",
            body = Session),
        (status = 400, description = "The body is not JSON of this shape: `invalid_json`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Unknown, expired, revoked or reused (the family is then \
            revoked): `invalid_refresh_token`.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn refresh(
    pool: web::Data<Pool>,
    issuer: web::Data<Issuer>,
    body: web::Json<RefreshBody>,
) -> Result<HttpResponse, Problem> {
    let digest = secret_token::digest(body.refresh_token.trim());
    let mut conn = pool.get().await?;
    // The revocation of a reused family must commit even though the answer is a
    // 401, so the transaction returns the outcome rather than failing.
    let rotation = conn
        .transaction::<_, Problem, _>(async |conn| {
            let Some(token) = refresh_tokens::lock_by_digest(conn, &digest).await? else {
                return Ok(Rotation::Refused);
            };
            if token.revoked_at.is_some() {
                return Ok(Rotation::Refused);
            }
            if token.used_at.is_some() {
                refresh_tokens::revoke_family(conn, token.family_id).await?;
                return Ok(Rotation::Reused);
            }
            if token.expires_at <= chrono::Utc::now() {
                return Ok(Rotation::Refused);
            }
            let account = accounts::find(conn, token.account_id).await?;
            let Some(account) = account.filter(|a| a.status == Status::Active.as_str()) else {
                refresh_tokens::revoke_family(conn, token.family_id).await?;
                return Ok(Rotation::Refused);
            };
            refresh_tokens::mark_used(conn, token.id).await?;
            let session = issuer.issue(conn, &account, token.family_id).await?;
            Ok(Rotation::Rotated(session))
        })
        .await?;
    match rotation {
        Rotation::Rotated(session) => Ok(HttpResponse::Ok().json(session)),
        Rotation::Refused => Err(invalid_refresh_token()),
        Rotation::Reused => {
            tracing::warn!("refresh token reused; its family is revoked");
            Err(invalid_refresh_token())
        }
    }
}

/// `POST /api/v1/auth/logout`: revokes the refresh token's family. Always 204, so
/// the answer reveals nothing about the token.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    operation_id = "logout",
    summary = "Log out",
    tag = "auth",
    request_body = RefreshBody,
    responses(
        (status = 204, description = "The token's family is revoked (if it existed)."),
        (status = 400, description = "The body is not JSON of this shape: `invalid_json`.",
            body = Problem, content_type = "application/problem+json"),
    ),
)]
#[tracing::instrument(skip_all)]
pub async fn logout(
    pool: web::Data<Pool>,
    body: web::Json<RefreshBody>,
) -> Result<HttpResponse, Problem> {
    let digest = secret_token::digest(body.refresh_token.trim());
    let mut conn = pool.get().await?;
    conn.transaction::<_, Problem, _>(async |conn| {
        if let Some(token) = refresh_tokens::lock_by_digest(conn, &digest).await? {
            refresh_tokens::revoke_family(conn, token.family_id).await?;
        }
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
