//! `POST /api/v1/orders/{id}/cancel`: PENDING or CONFIRMED → CANCELLED, and
//! `order.cancelled` so product-service gives back whatever it holds for the order.

use actix_web::{web, HttpResponse};
use comanda_kit::auth::AuthUser;
use comanda_kit::correlation::CorrelationId;
use comanda_kit::db::Pool;
use comanda_kit::problem::Problem;
use comanda_outbox::{deadline, topics, Envelope};
use diesel_async::AsyncConnection;
use uuid::Uuid;

use super::{visible, OrderTopics};
use crate::db::orders::{self, Order};
use crate::domain::status::{transition, Next, OrderEvent};
use crate::events::payloads::OrderCancelled;
use crate::events::{publish, stock_request, SOURCE};

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
        (status = 200, description = "The cancelled order (cancelling twice is a no-op); \
            `order.cancelled` releases its stock.", body = Order),
        (status = 400, description = "The id is not a UUID: `invalid_path`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token: `unauthorized`, `invalid_token`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order, or not the caller's: `not_found`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Only PENDING or CONFIRMED orders can be cancelled: `invalid_transition`.",
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
            let next = transition(order.status, OrderEvent::CancelRequested).map_err(|e| {
                Problem::conflict(
                    "invalid_transition",
                    format!(
                        "the order is {}; only PENDING or CONFIRMED orders can be cancelled",
                        e.from
                    ),
                )
            })?;
            let Next::Move(status) = next else {
                return Ok(order.id);
            };
            orders::set_status(conn, order.id, status).await?;
            let data = serde_json::to_value(OrderCancelled { order_id: order.id })
                .map_err(Problem::internal)?;
            let event = Envelope::new(
                topics::ORDER_CANCELLED,
                1,
                SOURCE,
                order.id.to_string(),
                data,
            )
            .correlated(correlation);
            publish(conn, &topics.cancelled, order.id, &event).await?;
            // A cancelled order waits for no stock reply.
            deadline::clear(conn, stock_request::DEADLINE, order.id).await?;
            Ok(order.id)
        })
        .await?;
    let order = orders::find(&mut conn, order).await?;
    Ok(HttpResponse::Ok().json(order))
}
