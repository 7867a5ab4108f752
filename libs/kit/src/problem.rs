//! HTTP errors as `application/problem+json` (RFC 9457) with a stable `code`.
//!
//! # Error policy
//! - Bad input is never a 500: malformed or oversized bodies, wrong content types and
//!   unparsable paths or queries become 4xx problems (see [`json_config`],
//!   [`path_config`], [`query_config`]); an unknown route is a 404 problem.
//! - A missing row is a 404 `not_found`; a broken business rule a 409 `conflict` (or a
//!   more specific code).
//! - Pool exhaustion and an unreachable database are a 503 `unavailable`: the request may
//!   succeed on retry, and load balancers and clients treat 503 that way.
//! - Anything unexpected is a 500 `internal` whose detail is logged but never sent, so
//!   clients cannot see internals (SQL, hostnames).
//! - Outside request handling (start-up, workers) errors are `anyhow::Error`.
//!
//! Clients branch on `code`, never on `title` or `detail`, which are for humans.

use std::borrow::Cow;

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;

/// Media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An HTTP error: status, stable machine-readable `code`, and a human `detail`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {detail}")]
pub struct Problem {
    /// HTTP status of the response.
    pub status: StatusCode,
    /// Stable identifier clients may branch on, e.g. `invalid_json`.
    pub code: Cow<'static, str>,
    /// Short summary of the status, e.g. "Bad Request".
    pub title: Cow<'static, str>,
    /// What went wrong in this occurrence, for humans.
    pub detail: String,
}

/// The JSON body of a problem response.
#[derive(Serialize)]
struct Body<'a> {
    r#type: &'static str,
    title: &'a str,
    status: u16,
    code: &'a str,
    detail: &'a str,
}

impl Problem {
    /// A problem with `status`, `code` and `detail`; the title is the status' reason phrase.
    pub fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        detail: impl Into<String>,
    ) -> Self {
        let title = status.canonical_reason().unwrap_or("Error");
        Self {
            status,
            code: code.into(),
            title: Cow::Borrowed(title),
            detail: detail.into(),
        }
    }

    /// 400: the request is malformed or invalid.
    pub fn bad_request(code: impl Into<Cow<'static, str>>, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    /// 404 `not_found`: the resource does not exist.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", detail)
    }

    /// 409: the request conflicts with the resource's state.
    pub fn conflict(code: impl Into<Cow<'static, str>>, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    /// 503 `unavailable`: a dependency is down or saturated; retrying may succeed.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", detail)
    }

    /// 500 `internal`: logs `error` and hides it from the client.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(error = %error, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "an internal error occurred",
        )
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let body = Body {
            r#type: "about:blank",
            title: &self.title,
            status: self.status.as_u16(),
            code: &self.code,
            detail: &self.detail,
        };
        HttpResponse::build(self.status)
            .content_type(PROBLEM_JSON)
            .json(body)
    }
}

/// JSON body extractor config: `limit_bytes` at most, errors as problems.
pub fn json_config(limit_bytes: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit_bytes)
        .error_handler(|err, _req| json_problem(&err).into())
}

/// Maps a JSON extraction failure to the problem the client should see.
fn json_problem(err: &JsonPayloadError) -> Problem {
    match err {
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body exceeds the limit of {limit} bytes"),
        ),
        JsonPayloadError::ContentType => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the body must be sent as application/json",
        ),
        JsonPayloadError::Deserialize(e) => Problem::bad_request("invalid_json", e.to_string()),
        other => Problem::bad_request("invalid_json", other.to_string()),
    }
}

/// Path extractor config: unparsable segments are a 400 `invalid_path`.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err: PathError, _req: &HttpRequest| {
        Problem::bad_request("invalid_path", err.to_string()).into()
    })
}

/// Query extractor config: unparsable query strings are a 400 `invalid_query`.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err: QueryPayloadError, _req: &HttpRequest| {
        Problem::bad_request("invalid_query", err.to_string()).into()
    })
}

/// Error handler (`ErrorHandlers`) for the 405 actix answers when a path is known but the
/// method is not: the same 405 and `Allow` header, with a `method_not_allowed` problem as
/// its body (actix's own is empty).
pub fn method_not_allowed<B>(
    res: actix_web::dev::ServiceResponse<B>,
) -> actix_web::Result<actix_web::middleware::ErrorHandlerResponse<B>> {
    let allow = res.headers().get(actix_web::http::header::ALLOW).cloned();
    let (req, _) = res.into_parts();
    let mut response = Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} is not allowed on {}", req.method(), req.path()),
    )
    .error_response();
    if let Some(allow) = allow {
        response
            .headers_mut()
            .insert(actix_web::http::header::ALLOW, allow);
    }
    let res = actix_web::dev::ServiceResponse::new(req, response).map_into_right_body();
    Ok(actix_web::middleware::ErrorHandlerResponse::Response(res))
}

/// Default service: any unknown route is a 404 problem.
pub async fn route_not_found(req: HttpRequest) -> HttpResponse {
    Problem::not_found(format!("no route for {} {}", req.method(), req.path())).error_response()
}
