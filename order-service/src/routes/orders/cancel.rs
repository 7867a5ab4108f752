//! `POST /api/v1/orders/{id}/cancel`: PENDING, CONFIRMED or PAID → CANCELLED (reason
//! `customer`), and `order.cancelled` so product-service gives back whatever it holds
//! for the order and payment-service voids its checkout or refunds its payment.

use actix_web::{web, HttpResponse};
use comanda_kit::auth::AuthUser;
use comanda_kit::correlation::CorrelationId;
use comanda_kit::db::Pool;
use comanda_kit::problem::Problem;
use diesel_async::AsyncConnection;
use uuid::Uuid;

use super::{visible, OrderTopics};
use crate::db::orders::{self, Order};
use crate::domain::status::{transition, Next, OrderEvent};
use crate::events::{cancelled, end, publish};

/// `POST /api/v1/orders/{id}/cancel` (owner or admin): 200 with the cancelled order;
/// 409 `invalid_transition` naming the current status when it cannot be cancelled.
#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/cancel",
    operation_id = "cancel_order",
    summary = "Cancel an order (its owner or an admin)",
    tag = "orders",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "The order id")),
    responses(
        (status = 200, description = "The cancelled order, `cancellation_reason` `customer`; \
            `order.cancelled` releases its stock and voids its checkout, or refunds a PAID \
            order's payment (`refund.status` `pending` until it is done).", body = Order),
        (status = 400, description = "The id is not a UUID: `invalid_path`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token: `unauthorized`, `invalid_token`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order, or not the caller's: `not_found`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Only PENDING, CONFIRMED or PAID orders can be cancelled \
            (not REJECTED, CANCELLED or EXPIRED ones): `invalid_transition`.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id, order_id = %id))]
pub async fn cancel(
    user: AuthUser,
    correlation: CorrelationId,
    pool: web::Data<Pool>,
    topics: web::Data<OrderTopics>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Problem> {
    let id = *id;
    let mut conn = pool.get().await?;
    let order = conn
        .transaction::<_, Problem, _>(async |conn| {
            let order = visible(conn, &user, id, true).await?;
            let request = OrderEvent::CancelRequested;
            let next = transition(order.status, request).map_err(|e| {
                Problem::conflict(
                    "invalid_transition",
                    format!(
                        "the order is {}; only PENDING, CONFIRMED or PAID orders can be cancelled",
                        e.from
                    ),
                )
            })?;
            let (Next::Move(status), Some(reason)) = (next, request.cancellation_reason()) else {
                return Ok(order.id);
            };
            // A cancelled order waits for no stock reply and no payment.
            end(conn, &order, status, reason).await?;
            let event = cancelled(order.id, reason.into())
                .map_err(Problem::internal)?
                .correlated(correlation);
            publish(conn, &topics.cancelled, order.id, &event).await?;
            Ok(order.id)
        })
        .await?;
    let order = orders::find(&mut conn, order).await?;
    Ok(HttpResponse::Ok().json(order))
}
