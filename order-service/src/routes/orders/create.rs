//! `POST /api/v1/orders`: store the order PENDING, ask for its stock and set the
//! request's deadline, in one transaction; answer 202 at once (no synchronous call to
//! product-service).
//!
//! With an `Idempotency-Key`, the same key and body answer the first response again and
//! create nothing; the same key with another body is a 422 `idempotency_key_reused`.
//!
//! A user holding `orders.max_open_per_user` open orders gets a 409
//! `too_many_open_orders` and nothing is written. The count is taken under the user's
//! advisory lock in the creating transaction, so concurrent requests cannot both pass
//! the cap; the key is claimed before it, so a replay answers the first order even at
//! the cap.
//!
//! While `orders.max_pending` orders wait for their stock decision, a new order is a
//! 503 `saga_backlog_full` with `Retry-After` and nothing is written ([`super::backlog`]); a
//! replay of an accepted key still answers its order.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use comanda_kit::auth::AuthUser;
use comanda_kit::correlation::CorrelationId;
use comanda_kit::db::Pool;
use comanda_kit::problem::Problem;
use comanda_outbox::deadline::{self, SagaSettings};
use diesel::result::Error as DieselError;
use diesel_async::AsyncConnection;

use super::backlog::SagaBacklog;
use super::OrderTopics;
use crate::db::idempotency::{self, Stored};
use crate::db::orders::{self, Order};
use crate::domain::idempotency::{request_hash, IdempotencyKey, HEADER};
use crate::domain::new_order::{NewOrder, NewOrderBody};
use crate::events::publish;
use crate::events::stock_request;
use crate::settings::OrderSettings;

/// What placing an order obeys: when its stock request falls due, the cap on the
/// customer's open orders, and the saga backlog.
#[derive(Debug)]
pub struct Placing {
    /// The stock request's deadline.
    pub saga: SagaSettings,
    /// `orders.max_open_per_user` and `orders.max_pending`.
    pub limits: OrderSettings,
    /// Counts the PENDING orders against `orders.max_pending`.
    pub backlog: SagaBacklog,
}

impl Placing {
    /// Placing as `saga` and `limits` say.
    pub fn new(saga: SagaSettings, limits: OrderSettings) -> Self {
        let backlog = SagaBacklog::new(limits.max_pending);
        Self {
            saga,
            limits,
            backlog,
        }
    }
}

/// Why the creating transaction stopped.
#[derive(Debug, thiserror::Error)]
enum CreateError {
    /// The key was used before: answer from what it stored.
    #[error("idempotency key used before")]
    KeyUsed,
    /// The user holds as many open orders as allowed.
    #[error("too many open orders")]
    TooManyOpen,
    /// As many orders wait for their stock decision as allowed.
    #[error("saga backlog full")]
    BacklogFull,
    #[error(transparent)]
    Db(#[from] DieselError),
}

/// `POST /api/v1/orders` (authenticated): 202 with the PENDING order.
#[utoipa::path(
    post,
    path = "/api/v1/orders",
    operation_id = "create_order",
    summary = "Place an order",
    tag = "orders",
    security(("bearer_auth" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: \
        the same key and body answer the first response again (1-255 visible ASCII).",
        nullable = false, pattern = r"^[!-~]{1,255}$")),
    request_body = NewOrderBody,
    responses(
        (status = 202, description = "The order, PENDING until its stock is reserved; \
            poll it or its timeline.", body = Order),
        (status = 400, description = "The order or the key is invalid: `invalid_order`, `invalid_idempotency_key`, `invalid_json`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token: `unauthorized`, `invalid_token`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The caller already holds `orders.max_open_per_user` open \
            (PENDING or CONFIRMED) orders: `too_many_open_orders`. Cancel one, or wait until one is rejected.",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The Idempotency-Key was used with another body: `idempotency_key_reused`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`orders.max_pending` orders are waiting for their stock decision: \
            `saga_backlog_full`, nothing stored; retry after `Retry-After` seconds.",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 429, description = "Too many orders placed in a short time (at the gateway, per user): \
            `rate_limited`, with `Retry-After`.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn create(
    req: HttpRequest,
    user: AuthUser,
    correlation: CorrelationId,
    pool: web::Data<Pool>,
    topics: web::Data<OrderTopics>,
    placing: web::Data<Placing>,
    body: web::Json<NewOrderBody>,
) -> Result<HttpResponse, Problem> {
    let request = NewOrder::parse(body.into_inner())?;
    let key = idempotency_key(&req)?;
    let order = Order::pending(user.id, &request);
    let stored = Stored {
        request_hash: request_hash(&request),
        response_status: StatusCode::ACCEPTED.as_u16() as i16,
        response_body: serde_json::to_value(&order).map_err(Problem::internal)?,
    };
    let event = stock_request::request(&order, correlation).map_err(Problem::internal)?;
    let mut conn = pool.get().await?;
    let full = placing.backlog.is_full(&mut conn).await?;
    let created = conn
        .transaction::<_, CreateError, _>(async |conn| {
            if let Some(key) = &key {
                if !idempotency::claim(conn, user.id, key, &stored).await? {
                    return Err(CreateError::KeyUsed);
                }
            }
            if full {
                return Err(CreateError::BacklogFull);
            }
            orders::lock_open_orders_of(conn, user.id).await?;
            let open = orders::count_open(conn, user.id).await?;
            if open >= i64::from(placing.limits.max_open_per_user) {
                return Err(CreateError::TooManyOpen);
            }
            orders::insert(conn, &order).await?;
            publish(conn, &topics.created_pending, order.id, &event).await?;
            let due_at = placing.saga.next_deadline();
            deadline::schedule(conn, stock_request::DEADLINE, order.id, due_at).await?;
            Ok(())
        })
        .await;
    match (created, key) {
        (Ok(()), _) => Ok(HttpResponse::Accepted().json(order)),
        (Err(CreateError::KeyUsed), Some(key)) => {
            let first = idempotency::find(&mut conn, user.id, &key).await?;
            replay(first, &stored.request_hash)
        }
        (Err(CreateError::KeyUsed), None) => Err(Problem::internal("key used without a key")),
        (Err(CreateError::TooManyOpen), _) => Err(Problem::new(
            StatusCode::CONFLICT,
            "too_many_open_orders",
            format!(
                "you already hold {} open orders, the most allowed; cancel one before placing another",
                placing.limits.max_open_per_user
            ),
        )),
        (Err(CreateError::BacklogFull), _) => Ok(placing.backlog.refusal()),
        (Err(CreateError::Db(e)), _) => Err(e.into()),
    }
}

/// The `Idempotency-Key` header, if sent.
fn idempotency_key(req: &HttpRequest) -> Result<Option<IdempotencyKey>, Problem> {
    let Some(value) = req.headers().get(HEADER) else {
        return Ok(None);
    };
    // A value that is not visible ASCII is refused like any other invalid key.
    IdempotencyKey::parse(value.to_str().unwrap_or_default()).map(Some)
}

/// The first response again, or a 422 when the key came with another request.
fn replay(first: Stored, request_hash: &str) -> Result<HttpResponse, Problem> {
    if first.request_hash != request_hash {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "this Idempotency-Key was used with a different request",
        ));
    }
    let status = StatusCode::from_u16(first.response_status as u16).map_err(Problem::internal)?;
    Ok(HttpResponse::build(status).json(first.response_body))
}
