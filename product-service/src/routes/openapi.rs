//! The OpenAPI document of product-service, from its handlers' annotations.

use comanda_kit::openapi::{BearerAuth, CommonProblems};
use comanda_kit::problem::Problem;
use utoipa::OpenApi;

use super::products;

/// product-service's API, served at `GET /openapi.json` and merged by the gateway.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "product-service",
        description = "The catalogue: public reads, admin writes; stock is reserved by events."
    ),
    paths(
        products::list,
        products::get,
        products::create,
        products::replace,
        products::delete,
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth, &CommonProblems),
    tags((name = "products", description = "The catalogue (product-service)"))
)]
pub struct ApiDoc;
