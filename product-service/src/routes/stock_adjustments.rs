//! `/api/v1/products/{id}/stock-adjustments`: an admin changes stock by a delta, and
//! reads who changed it, when and why.
//!
//! A delta is applied to the count under the product's row lock, so it composes with
//! every reservation and release made meanwhile instead of erasing them. Each one is
//! recorded in `stock_adjustments` and announced with `product.upserted` in the same
//! transaction as the stock change.

use actix_web::{web, HttpResponse};
use comanda_kit::auth::AuthUser;
use comanda_kit::correlation::CorrelationId;
use comanda_kit::db::Pool;
use comanda_kit::pagination::{Page, PageQuery, Paged};
use comanda_kit::problem::Problem;
use diesel_async::AsyncConnection;
use serde::Serialize;
use uuid::Uuid;

use super::precondition::etag;
use super::products::{publish_upserted, CatalogTopics};
use crate::db::products::{self, Product};
use crate::db::stock_adjustments::{self, StockAdjustment, ADJUSTMENT};
use crate::domain::stock::{Adjustment, StockAdjustmentBody};

/// The answer to an adjustment: what was recorded, and the product after it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Adjusted {
    /// The history entry.
    pub adjustment: StockAdjustment,
    /// The product with its new stock and version.
    pub product: Product,
}

/// `POST /api/v1/products/{id}/stock-adjustments` (ADMIN): adds `delta` to the stock.
#[utoipa::path(
    post,
    path = "/api/v1/products/{id}/stock-adjustments",
    operation_id = "adjust_stock",
    summary = "Add units to or take units from a product's stock (admin)",
    tag = "products",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "The product id")),
    request_body = StockAdjustmentBody,
    responses(
        (status = 201, description = "Applied and recorded; `product.upserted` is published.",
            body = Adjusted,
            headers(("ETag" = String, description = "The product's new version."))),
        (status = 400, description = "`invalid_adjustment` (delta 0 or beyond 1,000,000,000, \\
            reason empty or over 200 characters), `invalid_json`, `invalid_path`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token: `unauthorized`, `invalid_token`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is not an admin: `forbidden`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such product: `not_found`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The stock would fall below 0 (`insufficient_stock`) or \\
            pass 1,000,000,000 (`stock_limit_exceeded`); nothing was written.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id, product_id = %id))]
pub async fn create(
    user: AuthUser,
    correlation: CorrelationId,
    pool: web::Data<Pool>,
    topics: web::Data<CatalogTopics>,
    id: web::Path<Uuid>,
    body: web::Json<StockAdjustmentBody>,
) -> Result<HttpResponse, Problem> {
    user.require_admin()?;
    let adjustment = Adjustment::parse(body.into_inner())?;
    let mut conn = pool.get().await?;
    let adjusted = conn
        .transaction::<_, Problem, _>(async |conn| {
            let current = products::lock(conn, *id).await?;
            let stock = adjustment.apply(current.stock)?;
            let product = products::set_stock(conn, current.id, stock).await?;
            let adjustment = stock_adjustments::record(
                conn,
                product.id,
                ADJUSTMENT,
                adjustment.delta,
                stock,
                &adjustment.reason,
                user.id,
            )
            .await?;
            publish_upserted(conn, &topics.upserted, &product, correlation).await?;
            Ok(Adjusted {
                adjustment,
                product,
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(etag(adjusted.product.version))
        .json(adjusted))
}

/// `GET /api/v1/products/{id}/stock-adjustments` (ADMIN): the stock history, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/products/{id}/stock-adjustments",
    operation_id = "list_stock_adjustments",
    summary = "Who changed a product's stock, when and why (admin)",
    tag = "products",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "The product id"), PageQuery),
    responses(
        (status = 200, description = "A page of adjustments, newest first (a deleted \\
            product's history stays).", body = Paged<StockAdjustment>),
        (status = 400, description = "`invalid_path`, `invalid_query`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token: `unauthorized`, `invalid_token`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is not an admin: `forbidden`.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id, product_id = %id))]
pub async fn list(
    user: AuthUser,
    pool: web::Data<Pool>,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, Problem> {
    user.require_admin()?;
    let page = Page::from(query.into_inner());
    let mut conn = pool.get().await?;
    let (items, total) = stock_adjustments::list(&mut conn, *id, page.offset(), page.size).await?;
    Ok(HttpResponse::Ok().json(page.of(items, total)))
}
