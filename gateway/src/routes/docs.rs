//! `/api/docs`: Swagger UI over the merged OpenAPI document of every service.
//!
//! The UI's assets are vendored in `assets/swagger-ui/` (see its README) and compiled
//! into the binary, so serving the docs needs no network and no files at run time.
//! These routes are the gateway's own: public, and never forwarded.

use actix_web::http::header::{self, CacheDirective};
use actix_web::web::{self, Data};
use actix_web::HttpResponse;

use crate::docs::Docs;
use crate::routing::DOCS_PATH;

const INDEX_HTML: &str = include_str!("../../assets/swagger-ui/index.html");
const BUNDLE_JS: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js");
const UI_CSS: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui.css");

/// Registers the page, its assets and the merged document under [`DOCS_PATH`].
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource([DOCS_PATH.to_owned(), format!("{DOCS_PATH}/")]).get(index))
        .route(&format!("{DOCS_PATH}/openapi.json"), web::get().to(openapi))
        .route(
            &format!("{DOCS_PATH}/swagger-ui-bundle.js"),
            web::get().to(|| async { asset("text/javascript; charset=utf-8", BUNDLE_JS) }),
        )
        .route(
            &format!("{DOCS_PATH}/swagger-ui.css"),
            web::get().to(|| async { asset("text/css; charset=utf-8", UI_CSS) }),
        );
}

/// `GET /api/docs`: the Swagger UI page.
async fn index() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(INDEX_HTML)
}

/// `GET /api/docs/openapi.json`: every service's document merged into one.
#[tracing::instrument(skip_all)]
async fn openapi(docs: Data<Docs>) -> HttpResponse {
    let doc = docs.document().await;
    HttpResponse::Ok()
        // The gateway caches it briefly itself; a reload should see a recovered service.
        .insert_header(header::CacheControl(vec![CacheDirective::NoCache]))
        .json(&*doc)
}

/// A vendored asset; it only changes with the gateway binary, so browsers may keep it.
fn asset(content_type: &'static str, body: &'static [u8]) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(header::CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(3600),
        ]))
        .body(body)
}
