//! `/api/v1/products`: the public catalogue, and its admin-only writes.
//!
//! Every write appends its `product.upserted` / `product.deleted` event in the same
//! transaction, so the feed never misses or invents a change.
//!
//! Stock is not a plain field: orders move it while an admin's client holds an old
//! read, so a PUT may set it only with `If-Match` naming the version it read (see
//! [`super::precondition`]), and the usual way to change it is a delta
//! ([`super::stock_adjustments`]).

use actix_web::{web, HttpRequest, HttpResponse};
use comanda_kit::auth::AuthUser;
use comanda_kit::correlation::CorrelationId;
use comanda_kit::db::Pool;
use comanda_kit::pagination::{Page, PageQuery, Paged};
use comanda_kit::problem::Problem;
use comanda_kit::text::Text;
use comanda_outbox::{append, topics, Envelope};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::precondition::{self, etag, IfMatch, IfMatchHeader};
use crate::db::products::{self, Filter, Product, WriteError};
use crate::db::stock_adjustments::{self, REPLACE};
use crate::domain::product::{NewProductBody, ProductBody, ProductDraft};
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
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 1-based page number; defaults to 1.
    page: Option<i64>,
    /// Items per page; defaults to 20, capped at 100.
    size: Option<i64>,
    /// Case-insensitive substring of the name (no control characters).
    #[param(inline)]
    name: Option<Text>,
    /// Exact category (no control characters).
    #[param(inline)]
    category: Option<Text>,
}

/// `GET /api/v1/products`: active products, filtered by name and category, paginated.
#[utoipa::path(
    get,
    path = "/api/v1/products",
    operation_id = "list_products",
    summary = "The catalogue, by page (public)",
    tag = "products",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of active products.", body = Paged<Product>),
        (status = 400, description = "The query is invalid (e.g. a control character in a \
            filter): `invalid_query`.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
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
        name: query
            .name
            .map(Text::into_inner)
            .filter(|n| !n.trim().is_empty()),
        category: query
            .category
            .map(Text::into_inner)
            .filter(|c| !c.trim().is_empty()),
    };
    let mut conn = pool.get().await?;
    let (items, total) = products::list(&mut conn, &filter, page.offset(), page.size).await?;
    Ok(HttpResponse::Ok().json(page.of(items, total)))
}

/// `GET /api/v1/products/{id}`: an active product; an inactive one only for admins.
///
/// An inactive product is withdrawn from the catalogue, so for everyone else it does
/// not exist: 404, like the listing that leaves it out. A missing or invalid token is
/// just an anonymous caller here, since the route is public.
#[utoipa::path(
    get,
    path = "/api/v1/products/{id}",
    operation_id = "get_product",
    summary = "A product (public; inactive ones for admins only)",
    tag = "products",
    params(("id" = Uuid, Path, description = "The product id")),
    responses(
        (status = 200, description = "The product.", body = Product,
            headers(("ETag" = String, description = "The product's version, e.g. `\"7\"`: \
                send it in `If-Match` to set the stock with PUT."))),
        (status = 400, description = "The id is not a UUID: `invalid_path`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such product, or an inactive one and the caller is \
            not an admin: `not_found`.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(product_id = %id))]
pub async fn get(
    user: Option<AuthUser>,
    pool: web::Data<Pool>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Problem> {
    let mut conn = pool.get().await?;
    let product = products::find(&mut conn, *id).await?;
    if !product.active && !user.is_some_and(|u| u.is_admin()) {
        // The same answer as for a missing row, so hidden products cannot be probed.
        return Err(Problem::not_found("the resource does not exist"));
    }
    Ok(HttpResponse::Ok()
        .insert_header(etag(product.version))
        .json(product))
}

/// `POST /api/v1/products` (ADMIN): 201 with the product; a taken SKU is a 409.
#[utoipa::path(
    post,
    path = "/api/v1/products",
    operation_id = "create_product",
    summary = "Add a product (admin)",
    tag = "products",
    security(("bearer_auth" = [])),
    request_body = NewProductBody,
    responses(
        (status = 201, description = "The product, with its id.", body = Product,
            headers(("ETag" = String, description = "The product's version."))),
        (status = 400, description = "The product is invalid: `invalid_product` (a broken rule, \
            e.g. a price above 1,000,000,000 cents, or no stock), `invalid_json` (malformed, \
            or a control character in a text field).",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token: `unauthorized`, `invalid_token`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is not an admin: `forbidden`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another product has this SKU: `sku_taken`.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
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
    let stock = draft.initial_stock()?;
    let mut conn = pool.get().await?;
    let product = conn
        .transaction::<_, Problem, _>(async |conn| {
            let product = products::insert(conn, &draft, stock)
                .await
                .map_err(problem)?;
            publish_upserted(conn, &topics.upserted, &product, correlation).await?;
            Ok(product)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(etag(product.version))
        .json(product))
}

/// `PUT /api/v1/products/{id}` (ADMIN): replaces every field; the stock only with
/// `If-Match`.
///
/// Without `If-Match`, `stock` must be left out or equal the current count: a client
/// writing back a count it read before an order was reserved would otherwise erase
/// the reservation, and the order's cancel would then create stock from nothing
/// (428 `if_match_required`). With `If-Match`, every tag stale is a 412
/// `version_mismatch` and nothing is written; a matching one sets the count, recorded
/// in the stock history like a delta.
#[utoipa::path(
    put,
    path = "/api/v1/products/{id}",
    operation_id = "replace_product",
    summary = "Replace a product (admin); the stock only with If-Match",
    tag = "products",
    security(("bearer_auth" = [])),
    params(
        ("id" = Uuid, Path, description = "The product id"),
        ("If-Match" = inline(Option<IfMatchHeader>), Header, description = "The `ETag` of the \
            product as the client read it, e.g. `\"7\"`. Needed to set `stock` to another count \
            than the current one; when given, the product must still be at that version, stock \
            change or not. `*`, or entity tags (`\"7\"`, `W/\"7\"`) separated by commas.",
            nullable = false),
    ),
    request_body = ProductBody,
    responses(
        (status = 200, description = "The product as replaced.", body = Product,
            headers(("ETag" = String, description = "The product's new version."))),
        (status = 400, description = "The product is invalid: `invalid_product` (a broken rule, \
            e.g. a price above 1,000,000,000 cents), `invalid_json` (malformed, or a control \
            character in a text field), `invalid_if_match` (not `*` or quoted tags).",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token: `unauthorized`, `invalid_token`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is not an admin: `forbidden`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such product: `not_found`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another product has this SKU: `sku_taken`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names no current version of the product: \
            `version_mismatch`; nothing was written.",
            body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "The body sets another stock count without `If-Match`: \
            `if_match_required`; nothing was written.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id, product_id = %id))]
pub async fn replace(
    user: AuthUser,
    correlation: CorrelationId,
    pool: web::Data<Pool>,
    topics: web::Data<CatalogTopics>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<ProductBody>,
) -> Result<HttpResponse, Problem> {
    user.require_admin()?;
    let draft = ProductDraft::parse(body.into_inner())?;
    let if_match = IfMatch::from_request(&req)?;
    let mut conn = pool.get().await?;
    let product = conn
        .transaction::<_, Problem, _>(async |conn| {
            // Locked, so no reservation or release moves the stock between the check
            // and the write.
            let current = products::lock(conn, *id).await?;
            if_match.check(current.version)?;
            let stock = draft.stock.unwrap_or(current.stock);
            if stock != current.stock && !if_match.names_a_version() {
                return Err(precondition::required());
            }
            let product = products::replace(conn, *id, &draft, stock)
                .await
                .map_err(problem)?;
            if stock != current.stock {
                let reason = "stock set by PUT with If-Match";
                stock_adjustments::record(
                    conn,
                    product.id,
                    REPLACE,
                    stock - current.stock,
                    stock,
                    reason,
                    user.id,
                )
                .await?;
            }
            publish_upserted(conn, &topics.upserted, &product, correlation).await?;
            Ok(product)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(product.version))
        .json(product))
}

/// `DELETE /api/v1/products/{id}` (ADMIN): 204, or 404 when there is no such product.
#[utoipa::path(
    delete,
    path = "/api/v1/products/{id}",
    operation_id = "delete_product",
    summary = "Delete a product (admin)",
    tag = "products",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "The product id")),
    responses(
        (status = 204, description = "Deleted; `product.deleted` is published."),
        (status = 400, description = "The id is not a UUID: `invalid_path`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token: `unauthorized`, `invalid_token`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is not an admin: `forbidden`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such product: `not_found`.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
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
        .correlated(correlation);
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
    .correlated(correlation);
    append(conn, topic, &event).await?;
    Ok(())
}

fn problem(error: WriteError) -> Problem {
    match error {
        WriteError::SkuTaken => Problem::conflict("sku_taken", "another product has this sku"),
        WriteError::Db(e) => e.into(),
    }
}
