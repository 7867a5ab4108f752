//! The OpenAPI document of user-service, from its handlers' annotations.

use comanda_kit::openapi::{BearerAuth, CommonProblems};
use comanda_kit::problem::Problem;
use utoipa::OpenApi;

use super::users;

/// user-service's API, served at `GET /openapi.json` and merged by the gateway.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "user-service",
        description = "Profiles, created from registrations; for their owners and admins."
    ),
    paths(users::list, users::me, users::update_me, users::get),
    components(schemas(Problem)),
    modifiers(&BearerAuth, &CommonProblems),
    tags((name = "users", description = "Profiles (user-service)"))
)]
pub struct ApiDoc;
