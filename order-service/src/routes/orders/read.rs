//! `GET /api/v1/orders`, `GET /api/v1/orders/{id}` and its timeline.

use actix_web::{web, HttpResponse};
use comanda_kit::auth::AuthUser;
use comanda_kit::db::Pool;
use comanda_kit::pagination::{Page, PageQuery};
use comanda_kit::problem::Problem;
use serde::Serialize;
use uuid::Uuid;

use super::visible;
use crate::db::orders;
use crate::db::timeline::{self, TimelineEntry};

/// `GET /api/v1/orders/{id}` (owner or admin).
#[tracing::instrument(skip_all, fields(user_id = %user.id, order_id = %id))]
pub async fn get(
    user: AuthUser,
    pool: web::Data<Pool>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Problem> {
    let mut conn = pool.get().await?;
    let order = visible(&mut conn, &user, *id, false).await?;
    Ok(HttpResponse::Ok().json(order))
}

/// `GET /api/v1/orders?page=&size=`: the caller's orders (an admin's: everyone's),
/// newest first.
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn list(
    user: AuthUser,
    pool: web::Data<Pool>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, Problem> {
    let page = Page::from(query.into_inner());
    let owner = (!user.is_admin()).then_some(user.id);
    let mut conn = pool.get().await?;
    let (items, total) = orders::page(&mut conn, owner, page.offset(), page.size).await?;
    Ok(HttpResponse::Ok().json(page.of(items, total)))
}

/// The body of the timeline endpoint.
#[derive(Debug, Serialize)]
pub struct Timeline {
    /// The order.
    pub order_id: Uuid,
    /// Its events, oldest first.
    pub events: Vec<TimelineEntry>,
}

/// `GET /api/v1/orders/{id}/timeline` (owner or admin): every event of the order.
#[tracing::instrument(skip_all, fields(user_id = %user.id, order_id = %id))]
pub async fn timeline(
    user: AuthUser,
    pool: web::Data<Pool>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Problem> {
    let mut conn = pool.get().await?;
    let order = visible(&mut conn, &user, *id, false).await?;
    let events = timeline::of_order(&mut conn, order.id).await?;
    Ok(HttpResponse::Ok().json(Timeline {
        order_id: order.id,
        events,
    }))
}
