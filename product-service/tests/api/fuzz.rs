//! Property tests of everything product-service decodes (issue #14 item 15): the
//! `order.created.pending` and `order.cancelled` events, the product body and the
//! catalogue query. Arbitrary input is never a panic nor a 500: an event is its
//! payload or a permanent failure (the dead-letter topic), a body or query a 400
//! problem+json with its documented code.

use comanda_outbox::inbox::decode;
use comanda_outbox::{Envelope, HandlerError};
use comanda_testkit::arbitrary::{bytes, config, json, near_miss, query_string, run_async, Answer};
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

const CREATE_CODES: &[&str] = &["invalid_product", "invalid_json", "sku_taken"];
const REPLACE_CODES: &[&str] = &[
    "invalid_product",
    "invalid_json",
    "sku_taken",
    "if_match_required",
    "version_mismatch",
];

#[test]
fn arbitrary_product_bodies_are_saved_or_a_documented_400() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let app = runtime.block_on(spawn_app());
    let id = id_of(&runtime.block_on(app.create(product("FUZZ-1", 5))));
    let one = format!("/api/v1/products/{id}");
    let app = &app;
    for (method, path) in [(Method::POST, "/api/v1/products"), (Method::PUT, &one)] {
        run_async(&runtime, 128, bytes(256), |body| {
            let method = method.clone();
            async move {
                send(app, method, path, body)
                    .await
                    .is_problem(400, "invalid_json")
            }
        });
    }
    let valid = product("FUZZ-2", 5);
    run_async(&runtime, 256, near_miss(valid.clone()), |body| async move {
        let body = serde_json::to_vec(&body).expect("JSON");
        send(app, Method::POST, "/api/v1/products", body)
            .await
            .is_success_or_documented(CREATE_CODES)
    });
    let one = &one;
    run_async(&runtime, 128, near_miss(valid), |body| async move {
        let body = serde_json::to_vec(&body).expect("JSON");
        send(app, Method::PUT, one, body)
            .await
            .is_success_or_documented(REPLACE_CODES)
    });
}

#[test]
fn arbitrary_catalogue_queries_are_a_page_or_a_400_invalid_query() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let app = runtime.block_on(spawn_app());
    runtime.block_on(app.create(product("FUZZ-3", 5)));
    let keys = ["page", "size", "name", "category"];
    let app = &app;
    run_async(&runtime, 256, query_string(&keys), |query| async move {
        let res = app
            .http
            .client
            .get(format!("{}/api/v1/products?{query}", app.http.address))
            .send()
            .await
            .expect("request to product-service");
        let answer = Answer::read(res).await;
        prop_assert!(answer.status == 200 || answer.status == 400, "{answer:?}");
        answer.is_success_or_documented(&["invalid_query"])
    });
}
