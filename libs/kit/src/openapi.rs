//! What every service's OpenAPI document shares: the [`Problem`] schema, the bearer
//! security scheme, the problems every operation may answer, and the public
//! `GET /openapi.json` route that serves the document.
//!
//! Each service derives its own document (`utoipa::OpenApi`) from its handlers'
//! annotations; the gateway merges the four into the one behind `/api/docs`. The
//! schema and scheme names here are the same in every document, so the merge keeps
//! one of each.

use std::borrow::Cow;
use std::sync::Arc;

use actix_web::{web, HttpResponse};
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder, Schema};
use utoipa::{Modify, PartialSchema, ToSchema};

use crate::problem::{Problem, PROBLEM_JSON};

/// Where every service serves its document (public, outside `/api/v1`, like `/health`).
pub const OPENAPI_PATH: &str = "/openapi.json";
/// Name of the security scheme protected operations require.
pub const BEARER_AUTH: &str = "bearer_auth";

/// Registers `GET /openapi.json` serving `doc`.
pub fn serve(cfg: &mut web::ServiceConfig, doc: OpenApi) {
    let doc = Arc::new(doc);
    cfg.route(
        OPENAPI_PATH,
        web::get().to(move || {
            let doc = doc.clone();
            async move { HttpResponse::Ok().json(&*doc) }
        }),
    );
}

/// Adds the `bearer_auth` scheme (an EdDSA access JWT from auth-service's login) to a
/// document: `#[openapi(modifiers(&BearerAuth))]`.
pub struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER_AUTH,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token (EdDSA-signed JWT) from `POST /api/v1/auth/login` \
                         or `/refresh`.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Documents on every operation the problems any of them may answer — 500 `internal`
/// and 503 `unavailable` (database down or pool exhausted) — and on every operation that
/// takes a body the refusals of any body — 413 `payload_too_large` (the service's JSON
/// limit, or the gateway's) and 415 `unsupported_media_type` (not sent as JSON) — so the
/// annotations only name the ones specific to the operation:
/// `#[openapi(modifiers(&CommonProblems))]`.
pub struct CommonProblems;

impl Modify for CommonProblems {
    fn modify(&self, openapi: &mut OpenApi) {
        let common = [
            (
                "500",
                "Unexpected failure: `internal` (details are logged, never sent).",
            ),
            (
                "503",
                "A dependency is down or saturated: `unavailable`; retrying may succeed.",
            ),
        ];
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                let bodies = if operation.request_body.is_some() {
                    &BODY_REFUSALS[..]
                } else {
                    &[]
                };
                for (status, description) in common.iter().chain(bodies) {
                    add_problem_response(operation, status, description);
                }
            }
        }
    }
}

/// What any operation that takes a body may answer before its handler runs.
const BODY_REFUSALS: [(&str, &str); 2] = [
    (
        "413",
        "The body is larger than the service (or the gateway, 1 MiB) accepts: \
         `payload_too_large`.",
    ),
    (
        "415",
        "The body is not sent as `application/json`: `unsupported_media_type`.",
    ),
];

fn add_problem_response(operation: &mut Operation, status: &str, description: &str) {
    let response = ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(Problem::name())))
                .build(),
        )
        .build();
    operation
        .responses
        .responses
        .entry(status.to_owned())
        .or_insert(RefOr::T(response));
}

fn string(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
}

/// The body of every error response, as `application/problem+json` (RFC 9457).
impl PartialSchema for Problem {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .description(Some(
                "An error (RFC 9457 problem details). Clients branch on `code`; `title` \
                 and `detail` are for humans.",
            ))
            .property(
                "type",
                string("Always `about:blank`: `code` identifies the problem.")
                    .examples(["about:blank"]),
            )
            .property(
                "title",
                string("The status' reason phrase.").examples(["Not Found"]),
            )
            .property(
                "status",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .description(Some("The HTTP status."))
                    .examples([404]),
            )
            .property(
                "code",
                string("Stable machine-readable identifier.").examples(["not_found"]),
            )
            .property(
                "detail",
                string("What went wrong in this occurrence.")
                    .examples(["the order does not exist"]),
            )
            .required("type")
            .required("title")
            .required("status")
            .required("code")
            .required("detail")
            .into()
    }
}

impl ToSchema for Problem {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Problem")
    }
}

#[cfg(test)]
mod tests {
    use actix_web::ResponseError;

    use super::*;

    fn sorted_keys<'a>(names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
        let mut names: Vec<_> = names.collect();
        names.sort_unstable();
        names
    }

    fn document_with(operation: Operation) -> OpenApi {
        use utoipa::openapi::path::{HttpMethod, PathItem, PathsBuilder};
        use utoipa::openapi::OpenApiBuilder;
        let mut doc = OpenApiBuilder::new()
            .paths(PathsBuilder::new().path("/things", PathItem::new(HttpMethod::Post, operation)))
            .build();
        CommonProblems.modify(&mut doc);
        doc
    }

    fn statuses(doc: &OpenApi) -> Vec<&str> {
        let operation = doc.paths.paths["/things"]
            .post
            .as_ref()
            .expect("the operation");
        operation
            .responses
            .responses
            .keys()
            .map(String::as_str)
            .collect()
    }

    #[test]
    fn an_operation_with_a_body_documents_the_refusals_of_any_body() {
        use utoipa::openapi::path::OperationBuilder;
        use utoipa::openapi::request_body::RequestBodyBuilder;
        let with_body = OperationBuilder::new()
            .request_body(Some(
                RequestBodyBuilder::new()
                    .content("application/json", ContentBuilder::new().build())
                    .build(),
            ))
            .build();
        assert_eq!(
            statuses(&document_with(with_body)),
            ["413", "415", "500", "503"]
        );
        let without_body = OperationBuilder::new().build();
        assert_eq!(statuses(&document_with(without_body)), ["500", "503"]);
    }

    #[tokio::test]
    async fn the_problem_schema_requires_exactly_the_fields_of_a_problem_body() {
        let response = Problem::not_found("gone").error_response();
        let bytes = actix_web::body::to_bytes(response.into_body())
            .await
            .expect("a body");
        let body: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
        let schema = serde_json::to_value(Problem::schema()).expect("serialises");
        let required = schema["required"].as_array().expect("required fields");
        assert_eq!(
            sorted_keys(required.iter().filter_map(|f| f.as_str())),
            sorted_keys(
                body.as_object()
                    .expect("an object")
                    .keys()
                    .map(String::as_str)
            ),
        );
    }
}
