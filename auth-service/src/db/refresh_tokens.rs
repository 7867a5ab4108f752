//! The `refresh_tokens` table: rotation and family revocation.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::refresh_tokens;

/// A refresh token row (the token itself is never stored, only its digest).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshToken {
    /// Row id.
    pub id: Uuid,
    /// The account it signs in.
    pub account_id: Uuid,
    /// The login it descends from.
    pub family_id: Uuid,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
    /// When it was exchanged for its successor.
    pub used_at: Option<DateTime<Utc>>,
    /// When its family was revoked (logout or detected reuse).
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Stores a new token of `family_id` for `account_id`.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    account_id: Uuid,
    family_id: Uuid,
    digest: &[u8],
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(Uuid::now_v7()),
            refresh_tokens::account_id.eq(account_id),
            refresh_tokens::family_id.eq(family_id),
            refresh_tokens::token_hash.eq(digest),
            refresh_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// The token with `digest`, locked until the transaction ends, so two concurrent
/// refreshes with one token cannot both rotate it.
pub async fn lock_by_digest(
    conn: &mut AsyncPgConnection,
    digest: &[u8],
) -> QueryResult<Option<RefreshToken>> {
    refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(digest))
        .select(RefreshToken::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Marks token `id` as exchanged.
pub async fn mark_used(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<()> {
    diesel::update(refresh_tokens::table.find(id))
        .set(refresh_tokens::used_at.eq(diesel::dsl::now))
        .execute(conn)
        .await
        .map(drop)
}

/// Revokes every not yet revoked token of `family_id`; returns how many.
pub async fn revoke_family(conn: &mut AsyncPgConnection, family_id: Uuid) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(diesel::dsl::now))
    .execute(conn)
    .await
}
