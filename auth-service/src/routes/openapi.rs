//! The OpenAPI document of auth-service, from its handlers' annotations.

use comanda_kit::openapi::{BearerAuth, CommonProblems};
use comanda_kit::problem::Problem;
use utoipa::OpenApi;

use super::{accounts, jwks, register, sessions};

/// auth-service's API, served at `GET /openapi.json` and merged by the gateway.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "auth-service",
        description = "Registration, account status, sessions and the token key set."
    ),
    paths(
        register::register,
        accounts::get,
        sessions::login,
        sessions::refresh,
        sessions::logout,
        jwks::get,
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth, &CommonProblems),
    tags((name = "auth", description = "Accounts and sessions (auth-service)"))
)]
pub struct ApiDoc;
