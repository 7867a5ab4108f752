//! The `orders` and `order_lines` tables, read and written as one aggregate.
//!
//! The writes of the saga's steps are [`Prepared`]: diesel would parse and plan every
//! UPDATE anew (issue #15: half of this database's statements were planned per call).

use std::collections::HashMap;

use chrono::{DateTime, SubsecRound, Utc};
use comanda_kit::prepared::{PlannedEachCall, Prepared};
use diesel::dsl::sql;
use diesel::expression::SqlLiteral;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel::sql_types::Bool;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::schema::{order_lines, orders};
use crate::domain::new_order::NewOrder;
use crate::domain::payment::{Payment, Refund};
use crate::domain::reasons::{CancellationReason, RejectionReason};
use crate::domain::status::OrderStatus;

/// An order with its lines: the aggregate, and its JSON in responses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Order {
    /// Order id (UUIDv7).
    pub id: Uuid,
    /// The customer.
    pub user_id: Uuid,
    /// Where it stands.
    pub status: OrderStatus,
    /// What it holds, by product id.
    pub lines: Vec<Line>,
    /// Sum of the lines at their reserved prices (CONFIRMED and later).
    pub total_cents: Option<i64>,
    /// The currency of the total (ISO 4217, e.g. `EUR`; CONFIRMED and later).
    #[serde(default)]
    pub currency: Option<String>,
    /// The lines that could not be reserved (REJECTED for `insufficient_stock`), as
    /// product-service sent them.
    #[schema(value_type = Option<Vec<Shortfall>>)]
    pub shortfalls: Option<serde_json::Value>,
    /// Why it was REJECTED: `insufficient_stock`, `timeout` when no stock reply came
    /// after every attempt, or `total_out_of_range` when the reserved prices make a
    /// total that does not fit (the stock is given back).
    #[serde(default)]
    pub rejection_reason: Option<RejectionReason>,
    /// Why it was CANCELLED (`customer`, `payment_failed`, `amount_mismatch`) or
    /// EXPIRED (`expired`: not paid in time).
    #[serde(default)]
    pub cancellation_reason: Option<CancellationReason>,
    /// Its payment, once payment-service has reported one (a checkout, or its outcome).
    #[serde(default)]
    pub payment: Option<Payment>,
    /// The refund of its captured payment, once the order ended CANCELLED or EXPIRED
    /// with money captured.
    #[serde(default)]
    pub refund: Option<Refund>,
    /// Created (UTC).
    pub created_at: DateTime<Utc>,
    /// Last changed (UTC).
    pub updated_at: DateTime<Utc>,
}

/// A line that could not be reserved, as `inventory.stock.failed` carries it. Kept as
/// sent ([`Order::shortfalls`] holds the JSON); this type only describes it.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Shortfall {
    /// The product.
    product_id: Uuid,
    /// Units asked for.
    requested: i64,
    /// Units available (0 for an unknown or inactive product).
    available: i64,
}

/// A line of an order; priced once its stock is reserved.
#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Serialize, Deserialize, utoipa::ToSchema,
)]
#[diesel(table_name = order_lines)]
#[schema(as = OrderLine)]
pub struct Line {
    #[serde(skip)]
    order_id: Uuid,
    /// The product.
    pub product_id: Uuid,
    /// Units ordered.
    pub quantity: i32,
    /// Price per unit when reserved.
    pub unit_price_cents: Option<i64>,
    /// Product name when reserved.
    pub name: Option<String>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = orders)]
struct OrderRow {
    id: Uuid,
    user_id: Uuid,
    status: String,
    total_cents: Option<i64>,
    shortfalls: Option<serde_json::Value>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    rejection_reason: Option<String>,
    currency: Option<String>,
    cancellation_reason: Option<String>,
    payment_id: Option<Uuid>,
    payment_status: Option<String>,
    checkout_url: Option<String>,
    payment_expires_at: Option<DateTime<Utc>>,
    refund_status: Option<String>,
}

/// Parses a stored name; a name the code does not know is a deserialization error.
fn parse<T: std::str::FromStr<Err = String>>(stored: &str) -> QueryResult<T> {
    stored
        .parse()
        .map_err(|e: String| DieselError::DeserializationError(e.into()))
}

impl OrderRow {
    fn with_lines(self, lines: Vec<Line>) -> QueryResult<Order> {
        let payment_status = self.payment_status.as_deref().map(parse).transpose()?;
        let payment = self
            .payment_id
            .zip(payment_status)
            .map(|(id, status)| Payment {
                id,
                status,
                checkout_url: self.checkout_url,
                expires_at: self.payment_expires_at,
            });
        let refund = self.refund_status.as_deref().map(parse).transpose()?;
        Ok(Order {
            id: self.id,
            user_id: self.user_id,
            status: parse(&self.status)?,
            lines,
            total_cents: self.total_cents,
            currency: self.currency,
            shortfalls: self.shortfalls,
            rejection_reason: self.rejection_reason.as_deref().map(parse).transpose()?,
            cancellation_reason: self.cancellation_reason.as_deref().map(parse).transpose()?,
            payment,
            refund: refund.map(|status| Refund { status }),
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

impl Order {
    /// A new PENDING order of `user_id` for `request`, not yet stored.
    ///
    /// Times are cut to microseconds, Postgres' precision, so the order answered
    /// now equals the order read back later (an idempotent replay depends on it).
    pub fn pending(user_id: Uuid, request: &NewOrder) -> Self {
        let id = Uuid::now_v7();
        let now = Utc::now().trunc_subsecs(6);
        Self {
            id,
            user_id,
            status: OrderStatus::Pending,
            lines: request
                .lines()
                .iter()
                .map(|l| Line {
                    order_id: id,
                    product_id: l.product_id,
                    quantity: l.quantity,
                    unit_price_cents: None,
                    name: None,
                })
                .collect(),
            total_cents: None,
            currency: None,
            shortfalls: None,
            rejection_reason: None,
            cancellation_reason: None,
            payment: None,
            refund: None,
            created_at: now,
            updated_at: now,
        }
    }
}

/// Stores a new `order` and its lines.
pub async fn insert(conn: &mut AsyncPgConnection, order: &Order) -> QueryResult<()> {
    diesel::insert_into(orders::table)
        .values((
            orders::id.eq(order.id),
            orders::user_id.eq(order.user_id),
            orders::status.eq(order.status.as_str()),
            orders::created_at.eq(order.created_at),
            orders::updated_at.eq(order.updated_at),
        ))
        .execute(conn)
        .await?;
    let lines: Vec<_> = order
        .lines
        .iter()
        .map(|l| {
            (
                order_lines::order_id.eq(order.id),
                order_lines::product_id.eq(l.product_id),
                order_lines::quantity.eq(l.quantity),
            )
        })
        .collect();
    diesel::insert_into(order_lines::table)
        .values(lines)
        .execute(conn)
        .await?;
    Ok(())
}

/// Takes the transaction-scoped advisory lock of `user_id`'s open orders: creations
/// of one user's orders queue here until the holder commits or rolls back, so a count
/// of open orders taken after it cannot be outdated by a concurrent creation (two
/// requests at the cap must not both see room). Users' locks are independent; a hash
/// collision between two users only makes them wait for each other.
pub async fn lock_open_orders_of(conn: &mut AsyncPgConnection, user_id: Uuid) -> QueryResult<()> {
    Prepared(
        diesel::sql_query(
            "SELECT pg_advisory_xact_lock(hashtextextended('open-orders:' || $1, 0))",
        )
        .bind::<diesel::sql_types::Text, _>(user_id.to_string()),
    )
    .execute(conn)
    .await
    .map(drop)
}

/// How many open orders ([`OrderStatus::OPEN`]) `user_id` holds, over
/// `orders_open_by_user_idx` (see [`status_in`]).
pub async fn count_open(conn: &mut AsyncPgConnection, user_id: Uuid) -> QueryResult<i64> {
    Prepared(
        orders::table
            .filter(orders::user_id.eq(user_id))
            .filter(status_in(&OrderStatus::OPEN))
            .count(),
    )
    .get_result(conn)
    .await
}

/// `status IN (…)` with the statuses written into the SQL, not bound: only a literal
/// predicate lets Postgres prove that a partial index (`WHERE status IN (…)`) covers the
/// query in a generic plan, the one it caches for a prepared statement run many times.
/// Bound, the backlog count read every order there is (1.7 ms and growing in the soak,
/// `cargo xtask bench e2e -- --orders N`). The statuses are this crate's constants.
fn status_in(statuses: &[OrderStatus]) -> SqlLiteral<Bool> {
    let list: Vec<String> = statuses
        .iter()
        .map(|status| format!("'{}'", status.as_str()))
        .collect();
    sql::<Bool>(&format!("status IN ({})", list.join(", ")))
}

/// Orders waiting for their stock decision (PENDING), over `orders_pending_idx`.
pub async fn count_pending(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    Prepared(
        orders::table
            .filter(status_in(&[OrderStatus::Pending]))
            .count(),
    )
    .get_result(conn)
    .await
}

/// Order `id`, locked until the transaction ends: every status change reads it this
/// way, so changes of one order (and their events) are serialised.
pub async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Order> {
    let row: OrderRow = orders::table
        .find(id)
        .for_update()
        .select(OrderRow::as_select())
        .get_result(conn)
        .await?;
    let lines = lines_of(conn, &[id]).await?.remove(&id).unwrap_or_default();
    row.with_lines(lines)
}

/// Order `id`; `NotFound` when there is none.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Order> {
    let row: OrderRow = orders::table
        .find(id)
        .select(OrderRow::as_select())
        .get_result(conn)
        .await?;
    let lines = lines_of(conn, &[id]).await?.remove(&id).unwrap_or_default();
    row.with_lines(lines)
}

/// One page of orders, newest first (of `owner` only, when given), and the total.
pub async fn page(
    conn: &mut AsyncPgConnection,
    owner: Option<Uuid>,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<Order>, i64)> {
    let filtered = || {
        let mut query = orders::table.into_boxed();
        if let Some(owner) = owner {
            query = query.filter(orders::user_id.eq(owner));
        }
        query
    };
    let rows: Vec<OrderRow> = filtered()
        .order(orders::id.desc())
        .offset(offset)
        .limit(limit)
        .select(OrderRow::as_select())
        .load(conn)
        .await?;
    let total = filtered().count().get_result(conn).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut lines = lines_of(conn, &ids).await?;
    let orders = rows
        .into_iter()
        .map(|row| {
            let own = lines.remove(&row.id).unwrap_or_default();
            row.with_lines(own)
        })
        .collect::<QueryResult<_>>()?;
    Ok((orders, total))
}

/// The lines of orders `ids`, by order.
///
/// [`PlannedEachCall`]: a plan cached while `order_lines` was small is a sequential
/// scan (below ~1,000 lines, with no statistics yet), and Postgres would keep it as
/// the table grows, reading every line of every order for each order the saga touches.
async fn lines_of(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> QueryResult<HashMap<Uuid, Vec<Line>>> {
    let lines: Vec<Line> = PlannedEachCall(
        order_lines::table
            .filter(order_lines::order_id.eq_any(ids))
            .order((order_lines::order_id, order_lines::product_id))
            .select(Line::as_select()),
    )
    .load(conn)
    .await?;
    let mut by_order: HashMap<Uuid, Vec<Line>> = HashMap::new();
    for line in lines {
        by_order.entry(line.order_id).or_default().push(line);
    }
    Ok(by_order)
}

/// Moves order `id` to `status`.
pub async fn set_status(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    status: OrderStatus,
) -> QueryResult<()> {
    Prepared(diesel::update(orders::table.find(id)).set((
        orders::status.eq(status.as_str()),
        orders::updated_at.eq(Utc::now()),
    )))
    .execute(conn)
    .await?;
    Ok(())
}

/// Prices a line with its reserved snapshot.
pub async fn price_line(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    product_id: Uuid,
    unit_price_cents: i64,
    name: &str,
) -> QueryResult<()> {
    Prepared(
        diesel::update(order_lines::table.find((order_id, product_id))).set((
            order_lines::unit_price_cents.eq(unit_price_cents),
            order_lines::name.eq(name),
        )),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves order `id` to `status` (CONFIRMED) with its total and the currency it is
/// charged in, in one statement.
pub async fn confirm(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    status: OrderStatus,
    total_cents: i64,
    currency: &str,
) -> QueryResult<()> {
    Prepared(diesel::update(orders::table.find(id)).set((
        orders::status.eq(status.as_str()),
        orders::total_cents.eq(total_cents),
        orders::currency.eq(currency),
        orders::updated_at.eq(Utc::now()),
    )))
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves order `id` to `status` (CANCELLED or EXPIRED) for `reason`, in one
/// statement: such an order always has its reason.
pub async fn end(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    status: OrderStatus,
    reason: CancellationReason,
) -> QueryResult<()> {
    Prepared(diesel::update(orders::table.find(id)).set((
        orders::status.eq(status.as_str()),
        orders::cancellation_reason.eq(reason.as_str()),
        orders::updated_at.eq(Utc::now()),
    )))
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves order `id` to REJECTED for `reason`, with the `shortfalls` that caused it
/// (if any), in one statement: a REJECTED order always has its reason.
pub async fn reject(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    reason: RejectionReason,
    shortfalls: Option<&serde_json::Value>,
) -> QueryResult<()> {
    Prepared(diesel::update(orders::table.find(id)).set((
        orders::status.eq(OrderStatus::Rejected.as_str()),
        orders::rejection_reason.eq(reason.as_str()),
        orders::shortfalls.eq(shortfalls),
        orders::updated_at.eq(Utc::now()),
    )))
    .execute(conn)
    .await?;
    Ok(())
}
