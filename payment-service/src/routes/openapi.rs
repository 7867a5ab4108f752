//! The OpenAPI document of payment-service, from its handlers' annotations.

use comanda_kit::openapi::{BearerAuth, CommonProblems};
use comanda_kit::problem::Problem;
use utoipa::OpenApi;

use super::{payments, webhooks};

/// payment-service's API, served at `GET /openapi.json` and merged by the gateway.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "payment-service",
        description = "Payments of orders: the provider's checkout, its signed webhooks, voids and refunds."
    ),
    paths(payments::get, payments::by_order, webhooks::sandbox),
    components(schemas(Problem)),
    modifiers(&BearerAuth, &CommonProblems),
    tags((name = "payments", description = "Payments of orders and the provider's webhooks (payment-service)"))
)]
pub struct ApiDoc;
