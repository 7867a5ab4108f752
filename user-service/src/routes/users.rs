//! `/api/v1/users`: profiles, for their owners and for staff.
//!
//! Someone else's profile is a 404, not a 403, so ids cannot be probed.

use actix_web::{web, HttpResponse};
use comanda_kit::auth::AuthUser;
use comanda_kit::db::Pool;
use comanda_kit::pagination::{Page, PageQuery};
use comanda_kit::problem::Problem;
use serde::Deserialize;
use uuid::Uuid;

use crate::db::profiles;
use crate::domain::profile::{FullName, Phone};

fn no_profile() -> Problem {
    Problem::not_found("no such user")
}

/// `GET /api/v1/users/me`: the caller's profile.
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn me(user: AuthUser, pool: web::Data<Pool>) -> Result<HttpResponse, Problem> {
    let mut conn = pool.get().await?;
    let profile = profiles::find(&mut conn, user.id)
        .await?
        .ok_or_else(no_profile)?;
    Ok(HttpResponse::Ok().json(profile))
}

/// `PUT /api/v1/users/me` body: the fields a user may change.
#[derive(Deserialize)]
pub struct ProfileBody {
    full_name: String,
    phone: Option<String>,
}

/// `PUT /api/v1/users/me`: replaces name and phone; the email belongs to auth-service.
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
