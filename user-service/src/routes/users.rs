//! `/api/v1/users`: profiles, for their owners and for staff.
//!
//! Someone else's profile is a 404, not a 403, so ids cannot be probed.

use actix_web::{web, HttpResponse};
use comanda_kit::auth::AuthUser;
use comanda_kit::db::Pool;
use comanda_kit::pagination::{Page, PageQuery, Paged};
use comanda_kit::problem::Problem;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::profiles::{self, Profile};
use crate::domain::profile::{FullName, Phone};

fn no_profile() -> Problem {
    Problem::not_found("no such user")
}

/// `GET /api/v1/users/me`: the caller's profile.
#[utoipa::path(
    get,
    path = "/api/v1/users/me",
    operation_id = "get_my_profile",
    summary = "The caller's profile",
    tag = "users",
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The caller's profile.", body = Profile),
        (status = 401, description = "No or an invalid access token: `unauthorized`, `invalid_token`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The profile does not exist (yet): `not_found`.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn me(user: AuthUser, pool: web::Data<Pool>) -> Result<HttpResponse, Problem> {
    let mut conn = pool.get().await?;
    let profile = profiles::find(&mut conn, user.id)
        .await?
        .ok_or_else(no_profile)?;
    Ok(HttpResponse::Ok().json(profile))
}

/// `PUT /api/v1/users/me` body: the fields a user may change.
#[derive(Deserialize, ToSchema)]
pub struct ProfileBody {
    /// 1 to 100 characters after trimming, no control characters.
    #[schema(
        example = "Ann Smith",
        pattern = r"^\s*[^\s\u0000-\u001F\u007F-\u009F]([^\u0000-\u001F\u007F-\u009F]{0,98}[^\s\u0000-\u001F\u007F-\u009F])?\s*$"
    )]
    full_name: String,
    /// Optional; absent or blank removes it. Else an optional `+`, then 6 to 20 digits,
    /// with spaces, `-`, `(`, `)`; at most 30 characters.
    #[schema(example = "+34 600 000 000", schema_with = phone_schema)]
    phone: Option<String>,
}

/// A blank phone (any length) removes it; any other is a number of at most 30 characters.
fn phone_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Type};
    let text = || ObjectBuilder::new().schema_type(Type::String);
    AnyOfBuilder::new()
        .item(text().pattern(Some(r"^\s*$")))
        .item(
            text()
                .pattern(Some(r"^\s*\+?[ ()-]*([0-9][ ()-]*){6,20}\s*$"))
                .max_length(Some(30)),
        )
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .build()
        .into()
}

/// `PUT /api/v1/users/me`: replaces name and phone; the email belongs to auth-service.
#[utoipa::path(
    put,
    path = "/api/v1/users/me",
    operation_id = "update_my_profile",
    summary = "Change the caller's name and phone",
    tag = "users",
    security(("bearer_auth" = [])),
    request_body = ProfileBody,
    responses(
        (status = 200, description = "The updated profile.", body = Profile),
        (status = 400, description = "A field is invalid: `validation_failed`, `invalid_json`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token: `unauthorized`, `invalid_token`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The profile does not exist (yet): `not_found`.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn update_me(
    user: AuthUser,
    pool: web::Data<Pool>,
    body: web::Json<ProfileBody>,
) -> Result<HttpResponse, Problem> {
    let full_name = FullName::parse(&body.full_name)?;
    let phone = Phone::parse_optional(body.phone.as_deref())?;
    let mut conn = pool.get().await?;
    let profile = profiles::update(
        &mut conn,
        user.id,
        full_name.as_str(),
        phone.as_ref().map(Phone::as_str),
    )
    .await?
    .ok_or_else(no_profile)?;
    Ok(HttpResponse::Ok().json(profile))
}

/// `GET /api/v1/users/{id}`: a profile, for itself or an admin.
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}",
    operation_id = "get_profile",
    summary = "A profile (its owner or an admin)",
    tag = "users",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "The user (account) id")),
    responses(
        (status = 200, description = "The profile.", body = Profile),
        (status = 400, description = "The id is not a UUID: `invalid_path`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token: `unauthorized`, `invalid_token`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such profile, or not the caller's: `not_found`.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id, profile_id = %id))]
pub async fn get(
    user: AuthUser,
    pool: web::Data<Pool>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Problem> {
    if !user.may_access(*id) {
        return Err(no_profile());
    }
    let mut conn = pool.get().await?;
    let profile = profiles::find(&mut conn, *id)
        .await?
        .ok_or_else(no_profile)?;
    Ok(HttpResponse::Ok().json(profile))
}

/// `GET /api/v1/users?page=&size=` (ADMIN): profiles by page, with the total.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    operation_id = "list_profiles",
    summary = "Every profile, by page (admin)",
    tag = "users",
    security(("bearer_auth" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of profiles.", body = Paged<Profile>),
        (status = 400, description = "The query is invalid: `invalid_query`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token: `unauthorized`, `invalid_token`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is not an admin: `forbidden`.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn list(
    user: AuthUser,
    pool: web::Data<Pool>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, Problem> {
    user.require_admin()?;
    let page = Page::from(query.into_inner());
    let mut conn = pool.get().await?;
    let (items, total) = profiles::list(&mut conn, page.offset(), page.size).await?;
    Ok(HttpResponse::Ok().json(page.of(items, total)))
}
