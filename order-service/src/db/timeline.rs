//! The `order_events` table: every event of an order, in the order it was written.

use chrono::{DateTime, Utc};
use comanda_outbox::Envelope;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::schema::order_events;

/// One entry of an order's timeline.
#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Serialize, Deserialize, utoipa::ToSchema,
)]
#[diesel(table_name = order_events)]
pub struct TimelineEntry {
    /// The event's id.
    pub event_id: Uuid,
    /// Its type, e.g. `order.created.pending`.
    pub event_type: String,
    /// The service that produced it.
    pub source: String,
    /// The flow it belongs to: the correlation id of the request that began it
    /// (the client's own, such as `req-001`, or a UUID).
    pub correlation_id: String,
    /// The event it reacted to.
    pub causation_id: Option<Uuid>,
    /// When it happened (UTC).
    pub occurred_at: DateTime<Utc>,
}

/// Adds `event` to order `order_id`'s timeline. Call it in the transaction that
/// publishes or consumes the event, after locking the order.
pub async fn record(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    event: &Envelope,
) -> QueryResult<()> {
    diesel::insert_into(order_events::table)
        .values((
            order_events::order_id.eq(order_id),
            order_events::event_id.eq(event.id),
            order_events::event_type.eq(&event.event_type),
            order_events::source.eq(&event.source),
            order_events::correlation_id.eq(event.correlation_id.as_str()),
            order_events::causation_id.eq(event.causation_id),
            order_events::occurred_at.eq(event.occurred_at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Order `order_id`'s timeline, oldest first.
pub async fn of_order(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
) -> QueryResult<Vec<TimelineEntry>> {
    order_events::table
        .filter(order_events::order_id.eq(order_id))
        .order(order_events::id)
        .select(TimelineEntry::as_select())
        .load(conn)
        .await
}

/// The first event of `event_type` on order `order_id`'s timeline, if any.
pub async fn first_of_type(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    event_type: &str,
) -> QueryResult<Option<TimelineEntry>> {
    use diesel::OptionalExtension;
    order_events::table
        .filter(order_events::order_id.eq(order_id))
        .filter(order_events::event_type.eq(event_type))
        .order(order_events::id)
        .select(TimelineEntry::as_select())
        .first(conn)
        .await
        .optional()
}
