//! The `products` table: catalogue reads and writes, and stock moves.

use chrono::{DateTime, Utc};
use comanda_kit::prepared::Prepared;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::schema::products;
use crate::domain::product::ProductDraft;
use crate::domain::reservation::OnHand;

/// A product row; also its JSON in responses and in `product.upserted`.
#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Serialize, Deserialize, utoipa::ToSchema,
)]
#[diesel(table_name = products)]
pub struct Product {
    /// Product id (UUIDv7).
    pub id: Uuid,
    /// Unique SKU.
    pub sku: String,
    /// Display name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Category.
    pub category: String,
    /// Price in cents.
    pub price_cents: i64,
    /// Units on hand (not held by reservations).
    pub stock: i32,
    /// Orderable.
    pub active: bool,
    /// Created (UTC).
    pub created_at: DateTime<Utc>,
    /// Last changed (UTC).
    pub updated_at: DateTime<Utc>,
    /// Counts every change of the product, the stock moves of orders included; the
    /// `ETag` of its responses is this number in quotes, and a PUT changing the stock
    /// must name it in `If-Match`.
    pub version: i64,
}

/// Filters of the catalogue listing.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Case-insensitive substring of the name.
    pub name: Option<String>,
    /// Exact category (stored lower-case).
    pub category: Option<String>,
}

/// Why a write failed in a way the caller should tell the client about.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Another product has this SKU.
    #[error("the sku is taken")]
    SkuTaken,
    /// Anything else.
    #[error(transparent)]
    Db(#[from] DieselError),
}

fn classify(error: DieselError) -> WriteError {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => WriteError::SkuTaken,
        other => WriteError::Db(other),
    }
}

/// Inserts `draft` with `stock` units under a new id.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    draft: &ProductDraft,
    stock: i32,
) -> Result<Product, WriteError> {
    diesel::insert_into(products::table)
        .values((
            products::id.eq(Uuid::now_v7()),
            values(draft),
            products::stock.eq(stock),
        ))
        .returning(Product::as_returning())
        .get_result(conn)
        .await
        .map_err(classify)
}

/// Inserts `draft` with `stock` units unless its SKU exists; `None` when it did (seeding).
pub async fn insert_if_new_sku(
    conn: &mut AsyncPgConnection,
    draft: &ProductDraft,
    stock: i32,
) -> QueryResult<Option<Product>> {
    diesel::insert_into(products::table)
        .values((
            products::id.eq(Uuid::now_v7()),
            values(draft),
            products::stock.eq(stock),
        ))
        .on_conflict(products::sku)
        .do_nothing()
        .returning(Product::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Product `id`, locked until the transaction ends so that no reservation, release or
/// other write can change it between the caller's check and its write; `NotFound`
/// when it does not exist.
pub async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Product> {
    products::table
        .find(id)
        .for_update()
        .select(Product::as_select())
        .get_result(conn)
        .await
}

/// Replaces every field of product `id` with `draft` and its stock with `stock`, and
/// counts a version; `NotFound` when it does not exist.
///
/// The caller decides `stock` under [`lock`]: the count it holds, or a new one the
/// client sent with the version it was read at.
pub async fn replace(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    draft: &ProductDraft,
    stock: i32,
) -> Result<Product, WriteError> {
    diesel::update(products::table.find(id))
        .set((
            values(draft),
            products::stock.eq(stock),
            products::version.eq(products::version + 1),
            products::updated_at.eq(Utc::now()),
        ))
        .returning(Product::as_returning())
        .get_result(conn)
        .await
        .map_err(classify)
}

type Values<'a> = (
    diesel::dsl::Eq<products::sku, &'a str>,
    diesel::dsl::Eq<products::name, &'a str>,
    diesel::dsl::Eq<products::description, &'a str>,
    diesel::dsl::Eq<products::category, &'a str>,
    diesel::dsl::Eq<products::price_cents, i64>,
    diesel::dsl::Eq<products::active, bool>,
);

fn values(draft: &ProductDraft) -> Values<'_> {
    (
        products::sku.eq(draft.sku.as_str()),
        products::name.eq(draft.name.as_str()),
        products::description.eq(draft.description.as_str()),
        products::category.eq(draft.category.as_str()),
        products::price_cents.eq(draft.price_cents),
        products::active.eq(draft.active),
    )
}

/// Deletes product `id`; false when there was none.
pub async fn delete(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<bool> {
    let deleted = diesel::delete(products::table.find(id))
        .execute(conn)
        .await?;
    Ok(deleted == 1)
}

/// Product `id`; `NotFound` when it does not exist.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Product> {
    products::table
        .find(id)
        .select(Product::as_select())
        .get_result(conn)
        .await
}

fn filtered(filter: &Filter) -> products::BoxedQuery<'static, diesel::pg::Pg> {
    // Only orderable products are public.
    let mut query = products::table
        .filter(products::active.eq(true))
        .into_boxed();
    if let Some(name) = &filter.name {
        query = query.filter(products::name.ilike(format!("%{}%", escape_like(name))));
    }
    if let Some(category) = &filter.category {
        query = query.filter(products::category.eq(category.trim().to_lowercase()));
    }
    query
}

/// Escapes LIKE wildcards so a search for `50%` means the characters, not a pattern.
fn escape_like(raw: &str) -> String {
    raw.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// One page of active products matching `filter` (by name, then id), and the total.
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: &Filter,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<Product>, i64)> {
    let items = filtered(filter)
        .order((products::name, products::id))
        .offset(offset)
        .limit(limit)
        .select(Product::as_select())
        .load(conn)
        .await?;
    let total = filtered(filter).count().get_result(conn).await?;
    Ok((items, total))
}

/// Locks products `ids` in id order and reads what a reservation needs.
///
/// Every transaction that moves stock of several products locks them in this one
/// order, so two reservations can wait for each other but never deadlock.
pub async fn lock_on_hand(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<OnHand>> {
    let rows: Vec<(Uuid, String, i64, i32, bool)> = products::table
        .filter(products::id.eq_any(ids))
        .order(products::id)
        .for_update()
        .select((
            products::id,
            products::name,
            products::price_cents,
            products::stock,
            products::active,
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(product_id, name, price_cents, stock, active)| OnHand {
            product_id,
            name,
            price_cents,
            stock,
            active,
        })
        .collect())
}

/// Adds `delta` units (negative to take) to product `id`'s stock, counting a version
/// so that a client holding the product as it was cannot write its old count back.
///
/// Taking more than there is violates the `stock >= 0` check and fails the
/// transaction: callers check first, the constraint only guards against bugs.
pub async fn move_stock(conn: &mut AsyncPgConnection, id: Uuid, delta: i32) -> QueryResult<()> {
    Prepared(diesel::update(products::table.find(id)).set((
        products::stock.eq(products::stock + delta),
        products::version.eq(products::version + 1),
    )))
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets product `id`'s stock to `stock` (decided under [`lock`]) and counts a version.
pub async fn set_stock(conn: &mut AsyncPgConnection, id: Uuid, stock: i32) -> QueryResult<Product> {
    diesel::update(products::table.find(id))
        .set((
            products::stock.eq(stock),
            products::version.eq(products::version + 1),
            products::updated_at.eq(Utc::now()),
        ))
        .returning(Product::as_returning())
        .get_result(conn)
        .await
}
