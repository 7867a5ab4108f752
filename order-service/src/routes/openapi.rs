//! The OpenAPI document of order-service, from its handlers' annotations.

use comanda_kit::openapi::{BearerAuth, CommonProblems};
use comanda_kit::problem::Problem;
use utoipa::OpenApi;

use super::orders::{cancel, create, read};

/// order-service's API, served at `GET /openapi.json` and merged by the gateway.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "order-service",
        description = "Orders: placed PENDING at once, confirmed or rejected by the stock saga, then paid, cancelled or expired by the payment step."
    ),
    paths(create::create, read::list, read::get, cancel::cancel, read::timeline),
    components(schemas(Problem)),
    modifiers(&BearerAuth, &CommonProblems),
    tags((name = "orders", description = "Orders and their timelines (order-service)"))
)]
pub struct ApiDoc;
