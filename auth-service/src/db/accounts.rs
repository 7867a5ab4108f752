//! The `accounts` table.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::accounts;
use crate::domain::account::Status;

/// An account row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = accounts)]
pub struct Account {
    /// Account id, also the user-service profile id.
    pub id: Uuid,
    /// Normalised email.
    pub email: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// `USER` or `ADMIN`.
    pub role: String,
    /// `PENDING`, `ACTIVE` or `REJECTED`.
    pub status: String,
    /// Why a REJECTED account was rejected.
    pub rejection_reason: Option<String>,
    /// sha256 of the registration poll token.
    pub poll_token_hash: Option<Vec<u8>>,
    /// When the poll token was spent (its read of the settled account).
    pub poll_token_spent_at: Option<DateTime<Utc>>,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
}

/// A new account.
#[derive(Insertable)]
#[diesel(table_name = accounts)]
pub struct NewAccount<'a> {
    /// Account id.
    pub id: Uuid,
    /// Normalised email.
    pub email: &'a str,
    /// argon2id PHC string.
    pub password_hash: &'a str,
    /// `USER` or `ADMIN`.
    pub role: &'a str,
    /// Initial status.
    pub status: &'a str,
    /// sha256 of the registration poll token, if any.
    pub poll_token_hash: Option<&'a [u8]>,
}

/// Inserts `account`; a taken email is a unique violation.
pub async fn insert(conn: &mut AsyncPgConnection, account: &NewAccount<'_>) -> QueryResult<()> {
    diesel::insert_into(accounts::table)
        .values(account)
        .execute(conn)
        .await
        .map(drop)
}

/// Inserts `account` unless its email is taken; true when it was inserted.
pub async fn insert_if_missing(
    conn: &mut AsyncPgConnection,
    account: &NewAccount<'_>,
) -> QueryResult<bool> {
    // No conflict target: the email's unique index is partial (REJECTED accounts
    // free their email), and any conflict means "taken" here.
    let inserted = diesel::insert_into(accounts::table)
        .values(account)
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

/// The account `id`, if any.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Account>> {
    accounts::table
        .find(id)
        .select(Account::as_select())
        .first(conn)
        .await
        .optional()
}

/// The PENDING or ACTIVE account with `email` (normalised), if any: a REJECTED
/// registration gave its email up.
pub async fn find_by_email(
    conn: &mut AsyncPgConnection,
    email: &str,
) -> QueryResult<Option<Account>> {
    accounts::table
        .filter(accounts::email.eq(email))
        .filter(accounts::status.ne(Status::Rejected.as_str()))
        .select(Account::as_select())
        .first(conn)
        .await
        .optional()
}

/// The account `id`, locked until the transaction ends, if any.
pub async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Account>> {
    accounts::table
        .find(id)
        .for_update()
        .select(Account::as_select())
        .first(conn)
        .await
        .optional()
}

/// Moves account `id` to `status` if it is still PENDING; true when it moved.
pub async fn settle_pending(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    status: Status,
    reason: Option<&str>,
) -> QueryResult<bool> {
    let moved = diesel::update(
        accounts::table
            .find(id)
            .filter(accounts::status.eq(Status::Pending.as_str())),
    )
    .set((
        accounts::status.eq(status.as_str()),
        accounts::rejection_reason.eq(reason),
        accounts::updated_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
    .await?;
    Ok(moved == 1)
}

/// Email and password hash of every ADMIN account that is not REJECTED.
pub async fn admin_hashes(conn: &mut AsyncPgConnection) -> QueryResult<Vec<(String, String)>> {
    accounts::table
        .filter(accounts::role.eq("ADMIN"))
        .filter(accounts::status.ne(Status::Rejected.as_str()))
        .select((accounts::email, accounts::password_hash))
        .load(conn)
        .await
}

/// Spends the poll token of account `id`; true for the one call that spent it.
pub async fn spend_poll_token(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<bool> {
    let spent = diesel::update(
        accounts::table
            .find(id)
            .filter(accounts::poll_token_spent_at.is_null()),
    )
    .set(accounts::poll_token_spent_at.eq(diesel::dsl::now))
    .execute(conn)
    .await?;
    Ok(spent == 1)
}
