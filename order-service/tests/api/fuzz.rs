//! Property tests of everything order-service decodes (issue #14 item 15): the stock
//! replies, the order body with its `Idempotency-Key`, and the listing query.
//! Arbitrary input is never a panic nor a 500: an event is its payload or a permanent
//! failure (the dead-letter topic), a body, key or query a 4xx problem+json with its
//! documented code.

use comanda_outbox::inbox::decode;
use comanda_outbox::{Envelope, HandlerError};
use comanda_testkit::arbitrary::{
    bytes, config, documented_statuses, json, near_miss, path_segment, query_string, run_async,
    Answer,
};
use comanda_testkit::TestEnv;
use order_service::domain::total::total;
use order_service::events::payloads::{StockFailed, StockReleased, StockReserved};
use order_service::settings::Settings;
use order_service::startup::Application;
use proptest::prelude::*;
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::customer;

/// order-service alone (no product-service, no relays): what it answers at once is
/// all these properties judge.
struct Orders {
    _env: TestEnv,
    address: String,
    client: reqwest::Client,
}

async fn spawn_orders() -> Orders {
    let env = TestEnv::new().await;
    let settings = Settings::with_dev_auth(env.service_settings("order").await);
    let app = Application::build(settings)
        .await
        .expect("order-service builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    Orders {
        _env: env,
        address,
        client: reqwest::Client::new(),
    }
}

/// `data` decodes as `T` or is a permanent failure (dead-lettered, never retried).
fn decodes_or_is_permanent<T: DeserializeOwned>(data: Value) -> Result<(), TestCaseError> {
    let event = Envelope::new("inventory.stock.reserved", 1, "product-service", "1", data);
    let decoded = decode::<T>(&event);
    prop_assert!(
        matches!(decoded, Ok(_) | Err(HandlerError::Permanent(_))),
        "not a permanent failure"
    );
    Ok(())
}

fn stock_reserved() -> Value {
    json!({
        "order_id": Uuid::now_v7(),
        "lines": [{
            "product_id": Uuid::now_v7(), "quantity": 2,
            "unit_price_cents": 1250, "name": "Margherita"
        }]
    })
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn any_stock_reply_data_is_a_reply_or_a_permanent_failure(
        data in prop_oneof![json(), near_miss(stock_reserved())]
    ) {
        decodes_or_is_permanent::<StockReserved>(data.clone())?;
        decodes_or_is_permanent::<StockFailed>(data.clone())?;
        decodes_or_is_permanent::<StockReleased>(data)?;
    }

    /// What the confirm handler runs on a decoded reply's prices: the exact sum when
    /// it fits, `TotalOutOfRange` (the order is rejected) when it does not or a price
    /// is negative; never a panic.
    #[test]
    fn an_order_total_is_exact_or_out_of_range_for_any_prices(
        lines in prop::collection::vec(
            (
                prop_oneof![any::<i64>(), 0..=1_000_000_000i64, Just(i64::MAX)],
                prop_oneof![any::<i32>(), 1..=1_000i32],
            ),
            0..60,
        )
    ) {
        let exact = lines.iter().try_fold(0i128, |sum, &(price, quantity)| {
            (price >= 0 && quantity >= 0)
                .then(|| sum + i128::from(price) * i128::from(quantity))
        });
        let expected = exact.and_then(|sum| i64::try_from(sum).ok());
        prop_assert_eq!(total(lines.iter().copied()).ok(), expected);
    }
}

/// The statuses order-service's OpenAPI document lists for `method path`.
async fn documented(orders: &Orders, method: &str, path: &str) -> Vec<u16> {
    documented_statuses(&orders.client, &orders.address, method, path).await
}

/// Codes `POST /api/v1/orders` documents for a refused body or key.
const CREATE_CODES: &[&str] = &[
    "invalid_order",
    "invalid_idempotency_key",
    "invalid_json",
    "too_many_open_orders",
    "idempotency_key_reused",
];

/// Places `body` as a new customer (so the open-order cap never decides), with `key`.
async fn place(orders: &Orders, body: Vec<u8>, key: Option<HeaderValue>) -> Answer {
    let mut req = orders
        .client
        .post(format!("{}/api/v1/orders", orders.address))
        .bearer_auth(customer())
        .header(CONTENT_TYPE, "application/json")
        .body(body);
    if let Some(key) = key {
        req = req.header("Idempotency-Key", key);
    }
    Answer::read(req.send().await.expect("request to order-service")).await
}

/// Any header value HTTP can carry: visible ASCII, spaces, tabs and obs-text bytes.
fn header_value() -> impl Strategy<Value = HeaderValue> {
    prop_oneof![
        "[!-~]{1,300}".prop_map(|s| s.into_bytes()),
        prop::collection::vec(
            prop_oneof![Just(b' '), Just(b'\t'), 0x21u8..=0x7e, 0x80u8..=0xff],
            0..40
        ),
    ]
    .prop_filter_map("not a header value", |bytes| {
        HeaderValue::from_bytes(&bytes).ok()
    })
}

#[test]
fn arbitrary_order_bodies_and_keys_are_accepted_or_a_documented_4xx() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let orders = runtime.block_on(spawn_orders());
    let orders = &orders;
    let statuses = &runtime.block_on(documented(orders, "post", "/api/v1/orders"));
    run_async(&runtime, 32, bytes(256), |body| async move {
        let answer = place(orders, body, None).await;
        answer.is_problem(400, "invalid_json")?;
        answer.is_documented(statuses, CREATE_CODES)
    });
    let valid = json!({"lines": [
        {"product_id": Uuid::now_v7(), "quantity": 2},
        {"product_id": Uuid::now_v7(), "quantity": 1000}
    ]});
    let cases = (
        near_miss(valid.clone()),
        proptest::option::of(header_value()),
    );
    run_async(&runtime, 96, cases, |(body, key)| async move {
        let body = serde_json::to_vec(&body).expect("JSON");
        place(orders, body, key)
            .await
            .is_documented(statuses, CREATE_CODES)
    });
    // A valid body: only the key decides, and a refused key is always the same 400.
    let body = serde_json::to_vec(&valid).expect("JSON");
    let body = &body;
    run_async(&runtime, 64, header_value(), |key| async move {
        // HTTP drops the spaces and tabs around a header value on the way in.
        let sent = key.as_bytes().trim_ascii();
        let visible = (1..=255).contains(&sent.len()) && sent.iter().all(u8::is_ascii_graphic);
        let answer = place(orders, body.clone(), Some(key)).await;
        if visible {
            prop_assert_eq!(answer.status, 202, "{:?}", answer);
            Ok(())
        } else {
            answer.is_problem(400, "invalid_idempotency_key")
        }
    });
}

#[test]
fn arbitrary_listing_queries_and_ids_are_a_page_or_a_documented_4xx() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let orders = runtime.block_on(spawn_orders());
    let orders = &orders;
    let ann = customer();
    let ann = &ann;
    let list = &runtime.block_on(documented(orders, "get", "/api/v1/orders"));
    let one = &runtime.block_on(documented(orders, "get", "/api/v1/orders/{id}"));
    let timeline = &runtime.block_on(documented(orders, "get", "/api/v1/orders/{id}/timeline"));
    run_async(
        &runtime,
        64,
        query_string(&["page", "size"]),
        |query| async move {
            let res = orders
                .client
                .get(format!("{}/api/v1/orders?{query}", orders.address))
                .bearer_auth(ann)
                .send()
                .await
                .expect("request to order-service");
            let answer = Answer::read(res).await;
            prop_assert!(answer.status == 200 || answer.status == 400, "{answer:?}");
            answer.is_documented(list, &["invalid_query"])
        },
    );
    run_async(&runtime, 48, path_segment(), |id| async move {
        for (path, statuses) in [
            (format!("/api/v1/orders/{id}"), one),
            (format!("/api/v1/orders/{id}/timeline"), timeline),
        ] {
            let res = orders
                .client
                .get(format!("{}{path}", orders.address))
                .bearer_auth(ann)
                .send()
                .await
                .expect("request to order-service");
            let answer = Answer::read(res).await;
            prop_assert!(answer.status >= 400, "no order exists: {answer:?}");
            answer.is_documented(statuses, &["invalid_path", "not_found"])?;
        }
        Ok(())
    });
}
