//! The `reservations` and `reservation_lines` tables.
//!
//! The reservation row of an order is claimed with `INSERT .. ON CONFLICT DO NOTHING`:
//! the pending handler claims it as `RESERVED`, the cancel handler as a `CANCELLED`
//! tombstone. Whichever commits first wins and the other sees its row, even when two
//! instances handle the two events at the same moment (the second insert waits on the
//! first's key lock).

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{reservation_lines, reservations};
use crate::domain::reservation::{ReservedLine, Shortfall};

/// Stock is held for the order.
pub const RESERVED: &str = "RESERVED";
/// The order could not be reserved; nothing is held.
pub const FAILED: &str = "FAILED";
/// The reservation was given back after a cancel.
pub const RELEASED: &str = "RELEASED";
/// The cancel came before the order: it must never be reserved.
pub const CANCELLED: &str = "CANCELLED";

/// Claims order `order_id`'s reservation row with `status`; false when a row exists.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    status: &str,
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(reservations::table)
        .values((
            reservations::order_id.eq(order_id),
            reservations::status.eq(status),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

/// Marks `order_id`'s reservation FAILED with the `shortfalls` it was answered with.
pub async fn fail(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    shortfalls: &[Shortfall],
) -> QueryResult<()> {
    let shortfalls = serde_json::to_value(shortfalls)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    diesel::update(reservations::table.find(order_id))
        .set((
            reservations::status.eq(FAILED),
            reservations::shortfalls.eq(shortfalls),
            reservations::updated_at.eq(chrono::Utc::now()),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// What was decided for an order before.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Stock is held: these lines, priced as they were answered.
    Reserved(Vec<ReservedLine>),
    /// Nothing is held: these lines fell short (empty if decided before they were kept).
    Failed(Vec<Shortfall>),
    /// Released after a cancel, or a cancel's tombstone: nobody waits for an answer.
    Closed,
}

/// The decision on order `order_id`'s reservation, read under its row lock so it
/// cannot change until the transaction ends; `None` when there is no row.
pub async fn decision(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
) -> QueryResult<Option<Decision>> {
    let row: Option<(String, Option<serde_json::Value>)> = reservations::table
        .find(order_id)
        .for_update()
        .select((reservations::status, reservations::shortfalls))
        .first(conn)
        .await
        .optional()?;
    let Some((status, shortfalls)) = row else {
        return Ok(None);
    };
    let decision = match status.as_str() {
        RESERVED => {
            let lines = reservation_lines::table
                .filter(reservation_lines::order_id.eq(order_id))
                .order(reservation_lines::product_id)
                .select((
                    reservation_lines::product_id,
                    reservation_lines::quantity,
                    reservation_lines::unit_price_cents,
                    reservation_lines::name,
                ))
                .load::<(Uuid, i32, i64, String)>(conn)
                .await?;
            Decision::Reserved(
                lines
                    .into_iter()
                    .map(
                        |(product_id, quantity, unit_price_cents, name)| ReservedLine {
                            product_id,
                            quantity,
                            unit_price_cents,
                            name,
                        },
                    )
                    .collect(),
            )
        }
        FAILED => {
            let shortfalls = shortfalls
                .map(serde_json::from_value)
                .transpose()
                .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
            Decision::Failed(shortfalls.unwrap_or_default())
        }
        _ => Decision::Closed,
    };
    Ok(Some(decision))
}

/// Records the lines a reservation holds.
pub async fn insert_lines(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    lines: &[ReservedLine],
) -> QueryResult<()> {
    let rows: Vec<_> = lines
        .iter()
        .map(|l| {
            (
                reservation_lines::order_id.eq(order_id),
                reservation_lines::product_id.eq(l.product_id),
                reservation_lines::quantity.eq(l.quantity),
                reservation_lines::unit_price_cents.eq(l.unit_price_cents),
                reservation_lines::name.eq(&l.name),
            )
        })
        .collect();
    diesel::insert_into(reservation_lines::table)
        .values(rows)
        .execute(conn)
        .await?;
    Ok(())
}

/// Moves `order_id`'s reservation from RESERVED to RELEASED and returns its lines
/// (in product id order); `None` when it was not RESERVED, so a release happens once.
pub async fn release(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
) -> QueryResult<Option<Vec<(Uuid, i32)>>> {
    let released = diesel::update(
        reservations::table
            .find(order_id)
            .filter(reservations::status.eq(RESERVED)),
    )
    .set((
        reservations::status.eq(RELEASED),
        reservations::updated_at.eq(chrono::Utc::now()),
    ))
    .execute(conn)
    .await?;
    if released == 0 {
        return Ok(None);
    }
    let lines = reservation_lines::table
        .filter(reservation_lines::order_id.eq(order_id))
        .order(reservation_lines::product_id)
        .select((reservation_lines::product_id, reservation_lines::quantity))
        .load(conn)
        .await?;
    Ok(Some(lines))
}
