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
use crate::domain::reservation::ReservedLine;

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

/// Sets the status of `order_id`'s reservation.
pub async fn set_status(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    status: &str,
) -> QueryResult<()> {
    diesel::update(reservations::table.find(order_id))
        .set((
            reservations::status.eq(status),
            reservations::updated_at.eq(chrono::Utc::now()),
        ))
        .execute(conn)
        .await?;
    Ok(())
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
