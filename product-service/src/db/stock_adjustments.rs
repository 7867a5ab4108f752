//! The `stock_adjustments` table: who changed which product's stock, by how much,
//! when and why.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use uuid::Uuid;

use super::schema::stock_adjustments;

/// A delta posted to `.../stock-adjustments`.
pub const ADJUSTMENT: &str = "adjustment";
/// A new count set by a PUT carrying `If-Match`.
pub const REPLACE: &str = "replace";

/// One stock change an admin made; also its JSON.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = stock_adjustments)]
pub struct StockAdjustment {
    /// Adjustment id (UUIDv7).
    pub id: Uuid,
    /// The product.
    pub product_id: Uuid,
    /// `adjustment` (a posted delta) or `replace` (a PUT with `If-Match` set a count).
    #[schema(example = "adjustment")]
    pub kind: String,
    /// Units added (positive) or taken (negative); never 0.
    pub delta: i32,
    /// Units on hand right after it.
    pub stock_after: i32,
    /// Why, as the admin said (a PUT's is fixed text).
    pub reason: String,
    /// The admin's user id (the token's `sub`).
    pub adjusted_by: Uuid,
    /// When (UTC).
    pub adjusted_at: DateTime<Utc>,
}

/// Records a change of `delta` units leaving `stock_after` on product `product_id`.
pub async fn record(
    conn: &mut AsyncPgConnection,
    product_id: Uuid,
    kind: &'static str,
    delta: i32,
    stock_after: i32,
    reason: &str,
    adjusted_by: Uuid,
) -> QueryResult<StockAdjustment> {
    diesel::insert_into(stock_adjustments::table)
        .values((
            stock_adjustments::id.eq(Uuid::now_v7()),
            stock_adjustments::product_id.eq(product_id),
            stock_adjustments::kind.eq(kind),
            stock_adjustments::delta.eq(delta),
            stock_adjustments::stock_after.eq(stock_after),
            stock_adjustments::reason.eq(reason),
            stock_adjustments::adjusted_by.eq(adjusted_by),
            stock_adjustments::adjusted_at.eq(Utc::now()),
        ))
        .returning(StockAdjustment::as_returning())
        .get_result(conn)
        .await
}

/// One page of product `product_id`'s adjustments, newest first, and their total.
pub async fn list(
    conn: &mut AsyncPgConnection,
    product_id: Uuid,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<StockAdjustment>, i64)> {
    let mine = stock_adjustments::table.filter(stock_adjustments::product_id.eq(product_id));
    let items = mine
        .order((
            stock_adjustments::adjusted_at.desc(),
            stock_adjustments::id.desc(),
        ))
        .offset(offset)
        .limit(limit)
        .select(StockAdjustment::as_select())
        .load(conn)
        .await?;
    let total = mine.count().get_result(conn).await?;
    Ok((items, total))
}
