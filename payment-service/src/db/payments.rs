//! The `payments` table: one row per order, changed only under its row lock.

use chrono::{DateTime, Utc};
use comanda_kit::prepared::Prepared;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use uuid::Uuid;

use super::schema::payments;
use crate::domain::money::Amount;
use crate::domain::status::PaymentStatus;

/// A payment: the aggregate, and its JSON in responses.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Payment {
    /// Payment id (UUIDv7); the provider's `reference` and idempotency key.
    pub id: Uuid,
    /// The order it pays (one payment per order).
    pub order_id: Uuid,
    /// The customer; absent on a CANCELLED tombstone (its request never came).
    pub user_id: Option<Uuid>,
    /// Where it stands.
    pub status: PaymentStatus,
    /// What the order asked to be charged, in cents.
    pub amount_cents: Option<i64>,
    /// Its currency (ISO 4217).
    pub currency: Option<String>,
    /// The order's payment deadline: the checkout takes no payment after it.
    pub pay_by: Option<DateTime<Utc>>,
    /// The provider's checkout session, once created.
    pub session_id: Option<String>,
    /// Where the customer pays, once the session exists.
    pub checkout_url: Option<String>,
    /// When the session expires, as the provider says.
    pub expires_at: Option<DateTime<Utc>>,
    /// What the provider captured, in cents.
    pub captured_cents: Option<i64>,
    /// Why the charge failed (`card_declined`, `insufficient_funds`, `provider_refused`, …).
    pub failure_reason: Option<String>,
    /// The provider's refund, once made.
    pub refund_id: Option<String>,
    /// The flow of the order every event of the payment carries.
    #[serde(skip)]
    pub correlation_id: String,
    /// Created (UTC).
    pub created_at: DateTime<Utc>,
    /// Last changed (UTC).
    pub updated_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = payments)]
struct Row {
    id: Uuid,
    order_id: Uuid,
    user_id: Option<Uuid>,
    status: String,
    amount_cents: Option<i64>,
    currency: Option<String>,
    pay_by: Option<DateTime<Utc>>,
    session_id: Option<String>,
    checkout_url: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    captured_cents: Option<i64>,
    failure_reason: Option<String>,
    refund_id: Option<String>,
    correlation_id: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<Row> for Payment {
    type Error = DieselError;

    fn try_from(row: Row) -> QueryResult<Self> {
        let status = row
            .status
            .parse()
            .map_err(|e: String| DieselError::DeserializationError(e.into()))?;
        Ok(Self {
            id: row.id,
            order_id: row.order_id,
            user_id: row.user_id,
            status,
            amount_cents: row.amount_cents,
            currency: row.currency,
            pay_by: row.pay_by,
            session_id: row.session_id,
            checkout_url: row.checkout_url,
            expires_at: row.expires_at,
            captured_cents: row.captured_cents,
            failure_reason: row.failure_reason,
            refund_id: row.refund_id,
            correlation_id: row.correlation_id,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

impl Payment {
    /// True when `user_id` may see this payment as its owner.
    pub fn is_owned_by(&self, user_id: Uuid) -> bool {
        self.user_id == Some(user_id)
    }
}

/// A payment as `payment.requested` asks for it.
#[derive(Debug, Clone)]
pub struct Requested {
    /// The order.
    pub order_id: Uuid,
    /// The customer.
    pub user_id: Uuid,
    /// The charge.
    pub amount: Amount,
    /// The order's payment deadline.
    pub pay_by: DateTime<Utc>,
    /// The order's flow.
    pub correlation_id: String,
}

/// Stores a CREATING payment for `request` unless its order has one already (or a
/// tombstone); returns the new payment's id, `None` when the order had one.
pub async fn insert_requested(
    conn: &mut AsyncPgConnection,
    request: &Requested,
) -> QueryResult<Option<Uuid>> {
    diesel::insert_into(payments::table)
        .values((
            payments::id.eq(Uuid::now_v7()),
            payments::order_id.eq(request.order_id),
            payments::user_id.eq(request.user_id),
            payments::status.eq(PaymentStatus::Creating.as_str()),
            payments::amount_cents.eq(request.amount.cents),
            payments::currency.eq(request.amount.currency.as_str()),
            payments::pay_by.eq(request.pay_by),
            payments::correlation_id.eq(&request.correlation_id),
        ))
        .on_conflict(payments::order_id)
        .do_nothing()
        .returning(payments::id)
        .get_result(conn)
        .await
        .optional()
}

/// Stores a CANCELLED tombstone for `order_id` unless the order has a payment row;
/// returns whether it did.
pub async fn insert_tombstone(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
    correlation_id: &str,
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(payments::table)
        .values((
            payments::id.eq(Uuid::now_v7()),
            payments::order_id.eq(order_id),
            payments::status.eq(PaymentStatus::Cancelled.as_str()),
            payments::correlation_id.eq(correlation_id),
        ))
        .on_conflict(payments::order_id)
        .do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted > 0)
}

/// Payment `id`, locked until the transaction ends: every change reads it this way,
/// so the changes of one payment (and their events) are serialised.
pub async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Payment>> {
    payments::table
        .find(id)
        .for_update()
        .select(Row::as_select())
        .get_result(conn)
        .await
        .optional()?
        .map(Payment::try_from)
        .transpose()
}

/// The payment of order `order_id`, locked until the transaction ends.
pub async fn lock_by_order(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
) -> QueryResult<Option<Payment>> {
    payments::table
        .filter(payments::order_id.eq(order_id))
        .for_update()
        .select(Row::as_select())
        .get_result(conn)
        .await
        .optional()?
        .map(Payment::try_from)
        .transpose()
}

/// The payment of provider session `session_id`, locked until the transaction ends.
pub async fn lock_by_session(
    conn: &mut AsyncPgConnection,
    session_id: &str,
) -> QueryResult<Option<Payment>> {
    payments::table
        .filter(payments::session_id.eq(session_id))
        .for_update()
        .select(Row::as_select())
        .get_result(conn)
        .await
        .optional()?
        .map(Payment::try_from)
        .transpose()
}

/// Payment `id`, if any.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Payment>> {
    payments::table
        .find(id)
        .select(Row::as_select())
        .get_result(conn)
        .await
        .optional()?
        .map(Payment::try_from)
        .transpose()
}

/// The payment of order `order_id`, if any.
pub async fn find_by_order(
    conn: &mut AsyncPgConnection,
    order_id: Uuid,
) -> QueryResult<Option<Payment>> {
    payments::table
        .filter(payments::order_id.eq(order_id))
        .select(Row::as_select())
        .get_result(conn)
        .await
        .optional()?
        .map(Payment::try_from)
        .transpose()
}

/// Moves payment `id` to `status`.
pub async fn set_status(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    status: PaymentStatus,
) -> QueryResult<()> {
    Prepared(diesel::update(payments::table.find(id)).set((
        payments::status.eq(status.as_str()),
        payments::updated_at.eq(Utc::now()),
    )))
    .execute(conn)
    .await
    .map(drop)
}

/// Records the provider's session of payment `id` and moves it to `status`.
pub async fn set_session(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    session: &crate::provider::Session,
    status: PaymentStatus,
) -> QueryResult<()> {
    Prepared(diesel::update(payments::table.find(id)).set((
        payments::status.eq(status.as_str()),
        payments::session_id.eq(&session.id),
        payments::checkout_url.eq(&session.checkout_url),
        payments::expires_at.eq(session.expires_at),
        payments::updated_at.eq(Utc::now()),
    )))
    .execute(conn)
    .await
    .map(drop)
}

/// Moves `payment` to `status` (SUCCEEDED or REFUNDING) for a charge of
/// `captured_cents` on session `session_id` (kept if the payment had no session yet).
pub async fn captured(
    conn: &mut AsyncPgConnection,
    payment: &Payment,
    status: PaymentStatus,
    captured_cents: i64,
    session_id: &str,
) -> QueryResult<()> {
    let session_id = payment.session_id.as_deref().unwrap_or(session_id);
    Prepared(diesel::update(payments::table.find(payment.id)).set((
        payments::status.eq(status.as_str()),
        payments::captured_cents.eq(captured_cents),
        payments::session_id.eq(session_id),
        payments::updated_at.eq(Utc::now()),
    )))
    .execute(conn)
    .await
    .map(drop)
}

/// Moves payment `id` to FAILED for `reason`.
pub async fn failed(conn: &mut AsyncPgConnection, id: Uuid, reason: &str) -> QueryResult<()> {
    Prepared(diesel::update(payments::table.find(id)).set((
        payments::status.eq(PaymentStatus::Failed.as_str()),
        payments::failure_reason.eq(reason),
        payments::updated_at.eq(Utc::now()),
    )))
    .execute(conn)
    .await
    .map(drop)
}

/// Moves payment `id` to REFUNDED with the provider's refund `refund_id`.
pub async fn refunded(conn: &mut AsyncPgConnection, id: Uuid, refund_id: &str) -> QueryResult<()> {
    Prepared(diesel::update(payments::table.find(id)).set((
        payments::status.eq(PaymentStatus::Refunded.as_str()),
        payments::refund_id.eq(refund_id),
        payments::updated_at.eq(Utc::now()),
    )))
    .execute(conn)
    .await
    .map(drop)
}
