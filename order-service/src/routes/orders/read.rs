//! `GET /api/v1/orders`, `GET /api/v1/orders/{id}` and its timeline.

use actix_web::{web, HttpResponse};
use comanda_kit::auth::AuthUser;
use comanda_kit::db::Pool;
use comanda_kit::pagination::{Page, PageQuery, Paged};
use comanda_kit::problem::Problem;
use serde::Serialize;
use uuid::Uuid;

use super::visible;
use crate::db::orders::{self, Order};
use crate::db::timeline::{self, TimelineEntry};

/// `GET /api/v1/orders/{id}` (owner or admin).
#[utoipa::path(
    get,
    path = "/api/v1/orders/{id}",
    operation_id = "get_order",
    summary = "An order (its owner or an admin)",
    tag = "orders",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "The order id")),
    responses(
        (status = 200, description = "The order.", body = Order),
        (status = 400, description = "The id is not a UUID: `invalid_path`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token: `unauthorized`, `invalid_token`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order, or not the caller's: `not_found`.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
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
#[utoipa::path(
    get,
    path = "/api/v1/orders",
    operation_id = "list_orders",
    summary = "The caller's orders (an admin's: all), newest first",
    tag = "orders",
    security(("bearer_auth" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of orders.", body = Paged<Order>),
        (status = 400, description = "The query is invalid: `invalid_query`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token: `unauthorized`, `invalid_token`.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
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
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Timeline {
    /// The order.
    pub order_id: Uuid,
    /// Its events, oldest first.
    pub events: Vec<TimelineEntry>,
}

/// `GET /api/v1/orders/{id}/timeline` (owner or admin): every event of the order.
#[utoipa::path(
    get,
    path = "/api/v1/orders/{id}/timeline",
    operation_id = "get_order_timeline",
    summary = "An order's events, oldest first",
    tag = "orders",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "The order id")),
    responses(
        (status = 200, description = "The order's events.", body = Timeline),
        (status = 400, description = "The id is not a UUID: `invalid_path`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token: `unauthorized`, `invalid_token`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order, or not the caller's: `not_found`.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
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
