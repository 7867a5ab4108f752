//! `/api/v1/products`: the public catalogue, and its admin-only writes.
//!
//! Every write appends its `product.upserted` / `product.deleted` event in the same
//! transaction, so the feed never misses or invents a change.

use actix_web::{web, HttpResponse};
use comanda_kit::auth::AuthUser;
use comanda_kit::correlation::CorrelationId;
use comanda_kit::db::Pool;
use comanda_kit::pagination::{Page, PageQuery};
use comanda_kit::problem::Problem;
use comanda_outbox::{append, topics, Envelope};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Deserialize;
use uuid::Uuid;

use crate::db::products::{self, Filter, Product, WriteError};
use crate::domain::product::{ProductBody, ProductDraft};
use crate::events::payloads::ProductDeleted;
use crate::events::SOURCE;

/// Full names of the catalogue topics (they carry the deployment's prefix).
#[derive(Debug, Clone)]
pub struct CatalogTopics {
    /// `product.upserted`.
    pub upserted: String,
    /// `product.deleted`.
    pub deleted: String,
}

/// Query of the listing: page, size, and optional filters.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    page: Option<i64>,
    size: Option<i64>,
    name: Option<String>,
    category: Option<String>,
}

/// `GET /api/v1/products`: active products, filtered by name and category, paginated.
#[tracing::instrument(skip_all)]
pub async fn list(
    pool: web::Data<Pool>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, Problem> {
    let query = query.into_inner();
    let page = Page::from(PageQuery {
        page: query.page,
        size: query.size,
    });
    let filter = Filter {
        name: query.name.filter(|n| !n.trim().is_empty()),
        category: query.category.filter(|c| !c.trim().is_empty()),
    };
    let mut conn = pool.get().await?;
    let (items, total) = products::list(&mut conn, &filter, page.offset(), page.size).await?;
    Ok(HttpResponse::Ok().json(page.of(items, total)))
}

/// `GET /api/v1/products/{id}`.
#[tracing::instrument(skip_all, fields(product_id = %id))]
pub async fn get(pool: web::Data<Pool>, id: web::Path<Uuid>) -> Result<HttpResponse, Problem> {
    let mut conn = pool.get().await?;
    let product = products::find(&mut conn, *id).await?;
    Ok(HttpResponse::Ok().json(product))
}

/// `POST /api/v1/products` (ADMIN): 201 with the product; a taken SKU is a 409.
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn create(
    user: AuthUser,
    correlation: CorrelationId,
    pool: web::Data<Pool>,
    topics: web::Data<CatalogTopics>,
    body: web::Json<ProductBody>,
) -> Result<HttpResponse, Problem> {
    user.require_admin()?;
    let draft = ProductDraft::parse(body.into_inner())?;
    let mut conn = pool.get().await?;
    let product = conn
        .transaction::<_, Problem, _>(async |conn| {
            let product = products::insert(conn, &draft).await.map_err(problem)?;
            publish_upserted(conn, &topics.upserted, &product, correlation).await?;
            Ok(product)
        })
        .await?;
    Ok(HttpResponse::Created().json(product))
}

/// `PUT /api/v1/products/{id}` (ADMIN): replaces every field.
#[tracing::instrument(skip_all, fields(user_id = %user.id, product_id = %id))]
pub async fn replace(
    user: AuthUser,
    correlation: CorrelationId,
    pool: web::Data<Pool>,
    topics: web::Data<CatalogTopics>,
    id: web::Path<Uuid>,
    body: web::Json<ProductBody>,
) -> Result<HttpResponse, Problem> {
    user.require_admin()?;
    let draft = ProductDraft::parse(body.into_inner())?;
    let mut conn = pool.get().await?;
    let product = conn
        .transaction::<_, Problem, _>(async |conn| {
            let product = products::replace(conn, *id, &draft)
                .await
                .map_err(problem)?;
            publish_upserted(conn, &topics.upserted, &product, correlation).await?;
            Ok(product)
        })
        .await?;
    Ok(HttpResponse::Ok().json(product))
}

/// `DELETE /api/v1/products/{id}` (ADMIN): 204, or 404 when there is no such product.
#[tracing::instrument(skip_all, fields(user_id = %user.id, product_id = %id))]
pub async fn delete(
    user: AuthUser,
    correlation: CorrelationId,
    pool: web::Data<Pool>,
    topics: web::Data<CatalogTopics>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Problem> {
    user.require_admin()?;
    let id = *id;
    let mut conn = pool.get().await?;
    conn.transaction::<_, Problem, _>(async |conn| {
        if !products::delete(conn, id).await? {
            return Err(Problem::not_found("the product does not exist"));
        }
        let event = Envelope::new(
            topics::PRODUCT_DELETED,
            1,
            SOURCE,
            id.to_string(),
            serde_json::to_value(ProductDeleted { id }).map_err(Problem::internal)?,
        )
        .correlated(correlation.0);
        append(conn, &topics.deleted, &event).await?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Appends `product.upserted` for `product` (the product's JSON is the payload).
pub async fn publish_upserted(
    conn: &mut AsyncPgConnection,
    topic: &str,
    product: &Product,
    correlation: CorrelationId,
) -> Result<(), Problem> {
    let data = serde_json::to_value(product).map_err(Problem::internal)?;
    let event = Envelope::new(
        topics::PRODUCT_UPSERTED,
        1,
        SOURCE,
        product.id.to_string(),
        data,
    )
    .correlated(correlation.0);
    append(conn, topic, &event).await?;
    Ok(())
}

fn problem(error: WriteError) -> Problem {
    match error {
        WriteError::SkuTaken => Problem::conflict("sku_taken", "another product has this sku"),
        WriteError::Db(e) => e.into(),
    }
}
