//! Property tests of everything product-service decodes (issue #14 item 15): the
//! `order.created.pending` and `order.cancelled` events, the product and stock
//! adjustment bodies, and the catalogue and adjustment history queries. Arbitrary
//! input is never a panic nor a 500: an event is its payload or a permanent failure
//! (the dead-letter topic), a body or query a 4xx problem+json with its documented
//! code.

use comanda_outbox::inbox::decode;
use comanda_outbox::{Envelope, HandlerError};
use comanda_testkit::arbitrary::{
    bytes, config, documented_statuses, json, near_miss, path_segment, query_string, run_async,
    Answer,
};
use product_service::domain::reservation::{plan, OnHand, RequestedLine};
use product_service::events::payloads::{OrderCancelled, OrderCreatedPending};
use proptest::prelude::*;
use reqwest::header::CONTENT_TYPE;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{id_of, product, spawn_app, App};

/// `data` decodes as `T` or is a permanent failure (dead-lettered, never retried).
fn decodes_or_is_permanent<T: DeserializeOwned>(data: Value) -> Result<(), TestCaseError> {
    let event = Envelope::new("order.created.pending", 1, "order-service", "1", data);
    let decoded = decode::<T>(&event);
    prop_assert!(
        matches!(decoded, Ok(_) | Err(HandlerError::Permanent(_))),
        "not a permanent failure"
    );
    Ok(())
}

fn order_created_pending() -> Value {
    json!({
        "order_id": Uuid::now_v7(),
        "lines": [
            {"product_id": Uuid::now_v7(), "quantity": 2},
            {"product_id": Uuid::now_v7(), "quantity": 1}
        ]
    })
}

/// Three products, so lines often name the same one twice.
fn product_id() -> impl Strategy<Value = Uuid> {
    (1u128..=3).prop_map(Uuid::from_u128)
}

fn on_hand() -> impl Strategy<Value = Vec<OnHand>> {
    prop::collection::vec(
        (product_id(), any::<i64>(), any::<i32>(), any::<bool>()).prop_map(
            |(product_id, price_cents, stock, active)| OnHand {
                product_id,
                name: "Dish".to_owned(),
                price_cents,
                stock,
                active,
            },
        ),
        0..4,
    )
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn any_order_event_data_is_an_order_or_a_permanent_failure(
        data in prop_oneof![json(), near_miss(order_created_pending())]
    ) {
        decodes_or_is_permanent::<OrderCreatedPending>(data.clone())?;
        decodes_or_is_permanent::<OrderCancelled>(data)?;
    }

    /// What the reserve handler runs on a decoded order (positive quantities, any
    /// number of lines per product, any stock and prices): all or nothing, never
    /// more than there is, and no overflow however the quantities add up.
    #[test]
    fn a_reservation_plan_holds_no_more_than_the_stock_for_any_order(
        lines in prop::collection::vec(
            (product_id(), 1..=i32::MAX)
                .prop_map(|(product_id, quantity)| RequestedLine { product_id, quantity }),
            1..8,
        ),
        stock in on_hand(),
    ) {
        match plan(&lines, &stock) {
            Ok(reserved) => {
                for line in &reserved {
                    let wanted: i64 = lines
                        .iter()
                        .filter(|l| l.product_id == line.product_id)
                        .map(|l| i64::from(l.quantity))
                        .sum();
                    prop_assert_eq!(i64::from(line.quantity), wanted);
                    let held = stock
                        .iter()
                        .find(|p| p.product_id == line.product_id && p.active)
                        .map(|p| p.stock);
                    prop_assert!(held.is_some_and(|s| line.quantity <= s), "{line:?}");
                }
            }
            Err(shortfalls) => prop_assert!(!shortfalls.is_empty()),
        }
    }
}

/// `method path` as admin with `body` as the raw request body.
async fn send(app: &App, method: Method, path: &str, body: Vec<u8>) -> Answer {
    let res = app
        .http
        .client
        .request(method, format!("{}{path}", app.http.address))
        .bearer_auth(&app.admin)
        .header(CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .expect("request to product-service");
    Answer::read(res).await
}

/// The statuses product-service's OpenAPI document lists for `method path`.
async fn documented(app: &App, method: &str, path: &str) -> Vec<u16> {
    documented_statuses(&app.http.client, &app.http.address, method, path).await
}

const CREATE_CODES: &[&str] = &["invalid_product", "invalid_json", "sku_taken"];
const REPLACE_CODES: &[&str] = &[
    "invalid_product",
    "invalid_json",
    "sku_taken",
    "if_match_required",
    "version_mismatch",
];
const ADJUST_CODES: &[&str] = &[
    "invalid_adjustment",
    "invalid_json",
    "insufficient_stock",
    "stock_limit_exceeded",
];

#[test]
fn arbitrary_product_and_stock_bodies_are_saved_or_a_documented_4xx() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let app = runtime.block_on(spawn_app());
    let id = id_of(&runtime.block_on(app.create(product("FUZZ-1", 5))));
    let one = format!("/api/v1/products/{id}");
    let adjust = format!("/api/v1/products/{id}/stock-adjustments");
    let app = &app;
    let valid = product("FUZZ-2", 5);
    let bodies = [
        (
            Method::POST,
            "/api/v1/products",
            "/api/v1/products",
            valid.clone(),
            CREATE_CODES,
        ),
        (
            Method::PUT,
            one.as_str(),
            "/api/v1/products/{id}",
            valid,
            REPLACE_CODES,
        ),
        (
            Method::POST,
            adjust.as_str(),
            "/api/v1/products/{id}/stock-adjustments",
            json!({"delta": -2, "reason": "two broken in the stock room"}),
            ADJUST_CODES,
        ),
    ];
    for (method, path, template, valid, codes) in bodies {
        let operation = method.as_str().to_ascii_lowercase();
        let statuses = &runtime.block_on(documented(app, &operation, template));
        let method = &method;
        run_async(&runtime, 32, bytes(256), |body| async move {
            let answer = send(app, method.clone(), path, body).await;
            answer.is_problem(400, "invalid_json")?;
            answer.is_documented(statuses, codes)
        });
        run_async(&runtime, 96, near_miss(valid), |body| async move {
            let body = serde_json::to_vec(&body).expect("JSON");
            send(app, method.clone(), path, body)
                .await
                .is_documented(statuses, codes)
        });
    }
}

#[test]
fn arbitrary_catalogue_queries_history_queries_and_ids_are_a_page_or_a_documented_4xx() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let app = runtime.block_on(spawn_app());
    let id = id_of(&runtime.block_on(app.create(product("FUZZ-3", 5))));
    let history = format!("/api/v1/products/{id}/stock-adjustments");
    let app = &app;
    let lists = [
        (
            "/api/v1/products",
            "/api/v1/products",
            &["page", "size", "name", "category"][..],
        ),
        (
            history.as_str(),
            "/api/v1/products/{id}/stock-adjustments",
            &["page", "size"][..],
        ),
    ];
    for (path, template, keys) in lists {
        let statuses = &runtime.block_on(documented(app, "get", template));
        run_async(&runtime, 64, query_string(keys), |query| async move {
            let res = app
                .http
                .client
                .get(format!("{}{path}?{query}", app.http.address))
                .bearer_auth(&app.admin)
                .send()
                .await
                .expect("request to product-service");
            let answer = Answer::read(res).await;
            prop_assert!(answer.status == 200 || answer.status == 400, "{answer:?}");
            answer.is_documented(statuses, &["invalid_query"])
        });
    }
    let statuses = &runtime.block_on(documented(app, "get", "/api/v1/products/{id}"));
    run_async(&runtime, 64, path_segment(), |id| async move {
        let res = app
            .http
            .client
            .get(format!("{}/api/v1/products/{id}", app.http.address))
            .send()
            .await
            .expect("request to product-service");
        let answer = Answer::read(res).await;
        prop_assert!(answer.status >= 400, "no product has this id: {answer:?}");
        answer.is_documented(statuses, &["invalid_path", "not_found"])
    });
}
