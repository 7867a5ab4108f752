//! The `idempotency_keys` table.
//!
//! A creation claims `(user, key)` with `INSERT .. ON CONFLICT DO NOTHING` before it
//! writes the order, in the same transaction. A concurrent request with the same key
//! waits on that insert and then finds the committed row, so exactly one order exists
//! per key however the requests interleave.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::idempotency_keys;
use crate::domain::idempotency::IdempotencyKey;

/// What was answered the first time a key was used.
#[derive(Debug, Clone, Queryable)]
pub struct Stored {
    /// Hash of the first request.
    pub request_hash: String,
    /// Its response status.
    pub response_status: i16,
    /// Its response body.
    pub response_body: serde_json::Value,
}

/// Claims `key` for `user_id` with the response about to be given; false when the
/// key was used before.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    key: &IdempotencyKey,
    stored: &Stored,
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::user_id.eq(user_id),
            idempotency_keys::key.eq(key.as_str()),
            idempotency_keys::request_hash.eq(&stored.request_hash),
            idempotency_keys::response_status.eq(stored.response_status),
            idempotency_keys::response_body.eq(&stored.response_body),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

/// What `key` of `user_id` answered before.
pub async fn find(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    key: &IdempotencyKey,
) -> QueryResult<Stored> {
    idempotency_keys::table
        .find((user_id, key.as_str()))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::response_status,
            idempotency_keys::response_body,
        ))
        .get_result(conn)
        .await
}
