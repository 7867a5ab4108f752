//! `GET /api/v1/payments/{id}` and `GET /api/v1/payments?order_id=`.
//!
//! A caller sees the payments of their own orders (the `user_id` of
//! `payment.requested`); an admin sees every payment. Someone else's payment is a
//! 404, never a 403, as with orders: ids of other people's payments cannot be probed.
//! A CANCELLED tombstone has no owner, so only an admin sees it.

use actix_web::{web, HttpResponse};
use comanda_kit::auth::AuthUser;
use comanda_kit::db::Pool;
use comanda_kit::problem::Problem;
use serde::Deserialize;
use uuid::Uuid;

use crate::db::payments::{self, Payment};

/// `payment` if `user` may see it, else a 404.
fn visible(user: &AuthUser, payment: Option<Payment>) -> Result<Payment, Problem> {
    match payment {
        Some(payment) if user.is_admin() || payment.is_owned_by(user.id) => Ok(payment),
        _ => Err(Problem::not_found("the payment does not exist")),
    }
}

/// `GET /api/v1/payments/{id}` (owner or admin).
#[utoipa::path(
    get,
    path = "/api/v1/payments/{id}",
    operation_id = "get_payment",
    summary = "A payment (its owner or an admin)",
    tag = "payments",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "The payment id")),
    responses(
        (status = 200, description = "The payment.", body = Payment),
        (status = 400, description = "The id is not a UUID: `invalid_path`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token: `unauthorized`, `invalid_token`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such payment, or not the caller's: `not_found`.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id, payment_id = %id))]
pub async fn get(
    user: AuthUser,
    pool: web::Data<Pool>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Problem> {
    let mut conn = pool.get().await?;
    let payment = visible(&user, payments::find(&mut conn, *id).await?)?;
    Ok(HttpResponse::Ok().json(payment))
}

/// The query of `GET /api/v1/payments`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ByOrder {
    /// The order whose payment to show (required).
    pub order_id: Uuid,
}

/// `GET /api/v1/payments?order_id=` (owner or admin): the order's payment.
#[utoipa::path(
    get,
    path = "/api/v1/payments",
    operation_id = "get_payment_of_order",
    summary = "The payment of an order (its owner or an admin); one payment per order",
    tag = "payments",
    security(("bearer_auth" = [])),
    params(ByOrder),
    responses(
        (status = 200, description = "The order's payment.", body = Payment),
        (status = 400, description = "`order_id` is missing or not a UUID: `invalid_query`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token: `unauthorized`, `invalid_token`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The order has no payment, or it is not the caller's: `not_found`.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id, order_id = %query.order_id))]
pub async fn by_order(
    user: AuthUser,
    pool: web::Data<Pool>,
    query: web::Query<ByOrder>,
) -> Result<HttpResponse, Problem> {
    let mut conn = pool.get().await?;
    let payment = visible(
        &user,
        payments::find_by_order(&mut conn, query.order_id).await?,
    )?;
    Ok(HttpResponse::Ok().json(payment))
}
