//! The OpenAPI document of product-service, from its handlers' annotations.

use comanda_kit::openapi::{BearerAuth, CommonProblems};
use comanda_kit::problem::Problem;
use utoipa::OpenApi;

use super::{products, stock_adjustments};

/// product-service's API, served at `GET /openapi.json` and merged by the gateway.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "product-service",
        description = "The catalogue: public reads, admin writes; stock is reserved by events \
            and changed by admins only by deltas or with If-Match."
    ),
    paths(
        products::list,
        products::get,
        products::create,
        products::replace,
        products::delete,
        stock_adjustments::create,
        stock_adjustments::list,
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth, &CommonProblems),
    tags((name = "products", description = "The catalogue (product-service)"))
)]
pub struct ApiDoc;
