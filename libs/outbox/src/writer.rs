//! Appending events to the outbox inside the caller's transaction.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::envelope::Envelope;
use crate::schema::outbox;

/// Appends `event` for `topic` to the outbox.
///
/// Call it on the connection of the transaction that makes the domain change:
/// the event then exists if and only if that change committed. Write the domain
/// change first: it takes the aggregate's row lock, so the outbox id (the publish
/// order) of two events of one aggregate follows their commit order.
pub async fn append(
    conn: &mut AsyncPgConnection,
    topic: &str,
    event: &Envelope,
) -> QueryResult<()> {
    let payload = serde_json::to_value(event)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    diesel::insert_into(outbox::table)
        .values((
            outbox::event_id.eq(event.id),
            outbox::topic.eq(topic),
            outbox::kafka_key.eq(&event.aggregate_id),
            outbox::event_type.eq(&event.event_type),
            outbox::correlation_id.eq(event.correlation_id.as_str()),
            outbox::traceparent.eq(event.traceparent()),
            outbox::payload.eq(payload),
        ))
        .execute(conn)
        .await?;
    Ok(())
}
