//! A kit server with a few probe routes, spawned on port 0.

use actix_web::{web, HttpResponse};
use comanda_kit::correlation::CorrelationId;
use comanda_kit::health::Readiness;
use comanda_kit::http::Server;
use comanda_kit::settings::HttpSettings;
use comanda_kit::testing::{self, TestApp};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
struct Item {
    name: String,
}

#[derive(Deserialize)]
struct Search {
    limit: u32,
}

/// Echoes a JSON body and the request's correlation id.
async fn echo(item: web::Json<Item>, id: CorrelationId) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "name": item.name, "correlation_id": id }))
}

async fn by_id(id: web::Path<u32>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "id": id.into_inner() }))
}

async fn search(query: web::Query<Search>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "limit": query.limit }))
}

async fn menu() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "dishes": [] }))
}

fn routes(cfg: &mut web::ServiceConfig) {
    // One resource with two methods: how services register a path.
    cfg.service(
        web::resource("/menu")
            .route(web::get().to(menu))
            .route(web::put().to(menu)),
    )
    .route("/echo", web::post().to(echo))
    .route("/items/{id}", web::get().to(by_id))
    .route("/search", web::get().to(search));
}

/// Spawns a kit server with the probe routes and `readiness`.
pub fn spawn(readiness: Readiness) -> TestApp {
    testing::init_test_logs();
    let http = HttpSettings {
        host: "127.0.0.1".to_owned(),
        port: 0,
    };
    TestApp::spawn(Server::bind(&http, readiness, routes).expect("server binds"))
}
