//! `POST /api/v1/auth/register`: a PENDING account, its `creating.user` event and the
//! request's deadline, committed together.

use actix_web::http::header;
use actix_web::{web, HttpResponse, ResponseError};
use comanda_kit::correlation::CorrelationId;
use comanda_kit::db::Pool;
use comanda_kit::problem::Problem;
use comanda_outbox::append;
use comanda_outbox::deadline::{self, SagaSettings};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::{accounts, is_unique_violation};
use crate::domain::account::Status;
use crate::domain::registration::{Email, FullName, Password, Phone};
use crate::domain::{password, secret_token, Invalid};
use crate::events::payloads::CreatingUser;
use crate::events::profile_request::{self, PendingRequest};
use crate::hashing::Hashing;

/// Full name of the `creating.user` topic (it carries the deployment's prefix).
#[derive(Debug, Clone)]
pub struct RegistrationTopic(pub String);

/// The registration body as sent.
#[derive(Deserialize, ToSchema)]
pub struct RegisterBody {
    /// One `@`, at most 64 characters before it, a dotted domain after it, no whitespace
    /// or control characters; at most 254 characters. Trimmed and lower-cased.
    #[schema(
        example = "ann@example.com",
        max_length = 254,
        pattern = r"^\s*[^\s@\u0000-\u001F\u007F-\u009F]{1,64}@[^\s@.\u0000-\u001F\u007F-\u009F]+(\.[^\s@.\u0000-\u001F\u007F-\u009F]+)+\s*$"
    )]
    email: String,
    /// 12 to 128 characters, kept as sent.
    #[schema(example = "correct horse battery", min_length = 12, max_length = 128)]
    password: String,
    /// 1 to 100 characters after trimming, no control characters.
    #[schema(
        example = "Ann Smith",
        pattern = r"^\s*[^\s\u0000-\u001F\u007F-\u009F]([^\u0000-\u001F\u007F-\u009F]{0,98}[^\s\u0000-\u001F\u007F-\u009F])?\s*$"
    )]
    full_name: String,
    /// Optional; an optional `+`, then 6 to 20 digits, with spaces, `-`, `(`, `)`; at
    /// most 30 characters.
    #[schema(
        example = "+34 600 000 000",
        max_length = 30,
        pattern = r"^\s*\+?[ ()-]*([0-9][ ()-]*){6,20}\s*$"
    )]
    phone: Option<String>,
}

/// A registration whose every field parsed.
struct Registration {
    email: Email,
    password: Password,
    full_name: FullName,
    phone: Option<Phone>,
}

impl TryFrom<RegisterBody> for Registration {
    type Error = Invalid;

    fn try_from(body: RegisterBody) -> Result<Self, Invalid> {
        Ok(Self {
            email: Email::parse(&body.email)?,
            password: Password::parse(&body.password)?,
            full_name: FullName::parse(&body.full_name)?,
            phone: body
                .phone
                .filter(|p| !p.trim().is_empty())
                .map(|p| Phone::parse(&p))
                .transpose()?,
        })
    }
}

/// The 202 body: where the registration stands and how to follow it.
#[derive(Serialize, ToSchema)]
#[schema(as = RegistrationAccepted)]
struct Accepted {
    /// The account id.
    id: Uuid,
    /// `PENDING` until user-service has answered.
    #[schema(example = "PENDING")]
    status: &'static str,
    /// Lets the registrant read the account (send it as `X-Poll-Token`) before it
    /// can log in; shown once, stored as sha256.
    poll_token: String,
}

/// `POST /api/v1/auth/register`: 202 with the account id and a `Location` to poll;
/// a taken email is a 409 `email_taken`.
#[utoipa::path(
    post,
    path = "/api/v1/auth/register",
    operation_id = "register",
    summary = "Register an account",
    tag = "auth",
    request_body = RegisterBody,
    responses(
        (status = 202, description = "Registration accepted; the account is PENDING until \
            user-service creates the profile. Poll `Location` with `X-Poll-Token`.",
            body = Accepted,
            headers(("Location" = String, description = "The account to poll"))),
        (status = 400, description = "A field is invalid: `validation_failed`, `invalid_json`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The email has an account: `email_taken`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts from this IP (gateway): `rate_limited`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Too many password hashes at once: `busy`; retry after \
            `Retry-After` seconds.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[tracing::instrument(skip_all, fields(correlation_id = %correlation))]
pub async fn register(
    correlation: CorrelationId,
    pool: web::Data<Pool>,
    topic: web::Data<RegistrationTopic>,
    saga: web::Data<SagaSettings>,
    hashing: web::Data<Hashing>,
    body: web::Json<RegisterBody>,
) -> Result<HttpResponse, Problem> {
    let registration = Registration::try_from(body.into_inner())?;
    let admission = match hashing.admit() {
        Ok(admission) => admission,
        Err(busy) => return Ok(busy.error_response()),
    };
    let secret = registration.password.expose().to_owned();
    // argon2 is deliberately slow and large: a bounded number at once, off the async
    // workers.
    let password_hash = admission
        .run(move || password::hash(&secret))
        .await?
        .map_err(Problem::internal)?;
    let id = Uuid::now_v7();
    let poll = secret_token::generate();
    let pending = PendingRequest {
        correlation_id: correlation,
        request: CreatingUser {
            account_id: id,
            email: registration.email.as_str().to_owned(),
            full_name: registration.full_name.as_str().to_owned(),
            phone: registration.phone.as_ref().map(|p| p.as_str().to_owned()),
        },
    };
    let event = profile_request::request(&pending).map_err(Problem::internal)?;
    // The deadline keeps the request, to send it again if no answer comes in time.
    let kept = serde_json::to_value(&pending).map_err(Problem::internal)?;
    let account = accounts::NewAccount {
        id,
        email: registration.email.as_str(),
        password_hash: &password_hash,
        role: "USER",
        status: Status::Pending.as_str(),
        poll_token_hash: Some(&poll.digest),
    };
    let mut conn = pool.get().await?;
    conn.transaction::<_, Problem, _>(async |conn| {
        accounts::insert(conn, &account).await.map_err(|e| {
            if is_unique_violation(&e) {
                Problem::conflict("email_taken", "an account with this email already exists")
            } else {
                e.into()
            }
        })?;
        append(conn, &topic.0, &event).await?;
        let due_at = saga.next_deadline();
        deadline::schedule_with_data(conn, profile_request::DEADLINE, id, due_at, &kept).await?;
        Ok(())
    })
    .await?;
    tracing::info!(account_id = %id, "registration accepted");
    Ok(HttpResponse::Accepted()
        .insert_header((header::LOCATION, format!("/api/v1/auth/accounts/{id}")))
        .json(Accepted {
            id,
            status: Status::Pending.as_str(),
            poll_token: poll.token,
        }))
}
