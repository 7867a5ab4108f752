//! The `profiles` table.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use uuid::Uuid;

use super::schema::profiles;

/// A profile, as stored and as served.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = profiles)]
pub struct Profile {
    /// The account id.
    pub id: Uuid,
    /// Normalised email.
    pub email: String,
    /// The person's name.
    pub full_name: String,
    /// Optional phone number.
    pub phone: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A profile to create.
#[derive(Insertable)]
#[diesel(table_name = profiles)]
pub struct NewProfile<'a> {
    /// The account id.
    pub id: Uuid,
    /// Normalised email.
    pub email: &'a str,
    /// The person's name.
    pub full_name: &'a str,
    /// Optional phone number.
    pub phone: Option<&'a str>,
}

/// Inserts `profile` unless its id or email exists; true when inserted.
pub async fn insert_if_new(
    conn: &mut AsyncPgConnection,
    profile: &NewProfile<'_>,
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(profiles::table)
        .values(profile)
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

/// Profile `id`, if any.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Profile>> {
    profiles::table
        .find(id)
        .select(Profile::as_select())
        .first(conn)
        .await
        .optional()
}

/// Sets the name and phone of profile `id`; the updated profile, if it exists.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    full_name: &str,
    phone: Option<&str>,
) -> QueryResult<Option<Profile>> {
    diesel::update(profiles::table.find(id))
        .set((
            profiles::full_name.eq(full_name),
            profiles::phone.eq(phone),
            profiles::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Profile::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// One page of profiles, oldest first (ids are UUIDv7), and the total count.
pub async fn list(
    conn: &mut AsyncPgConnection,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<Profile>, i64)> {
    let items = profiles::table
        .order(profiles::id.asc())
        .offset(offset)
        .limit(limit)
        .select(Profile::as_select())
        .load(conn)
        .await?;
    let total = profiles::table.count().get_result(conn).await?;
    Ok((items, total))
}
