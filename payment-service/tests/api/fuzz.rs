//! Property tests of everything payment-service decodes: the events it consumes, the
//! provider's webhook (its signature header and its body), and the reading routes'
//! ids and queries. Arbitrary input is never a panic nor a 5xx: an event is its
//! payload or a permanent failure (the dead-letter topic), a webhook a 200 or a 400
//! problem+json with its documented code, a read a documented 4xx.

use chrono::Utc;
use comanda_outbox::inbox::decode;
use comanda_outbox::{Envelope, HandlerError};
use comanda_testkit::arbitrary::{
    bytes, config, documented_statuses, json, near_miss, path_segment, query_string, run_async,
    Answer,
};
use comanda_testkit::TestEnv;
use payment_service::events::payloads::{OrderCancelled, PaymentRequested};
use payment_service::provider::webhook::WebhookEvent;
use payment_service::settings::{ProviderSettings, Settings};
use payment_service::startup::Application;
use proptest::prelude::*;
use reqwest::header::HeaderValue;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{signature, SECRET, WEBHOOK};

/// payment-service alone (its provider is nowhere: nothing here reaches it).
struct Alone {
    _env: TestEnv,
    address: String,
    client: reqwest::Client,
    admin: String,
}

async fn spawn_alone() -> Alone {
    let env = TestEnv::new().await;
    let provider = ProviderSettings::new("http://127.0.0.1:9", SECRET);
    let settings = Settings::with_dev_auth(env.service_settings("payment").await, provider);
    let app = Application::build(settings)
        .await
        .expect("payment-service builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    Alone {
        _env: env,
        address,
        client: reqwest::Client::new(),
        admin: comanda_testkit::tokens::valid(Uuid::now_v7(), &[comanda_kit::auth::Role::Admin]),
    }
}

/// `data` decodes as `T` or is a permanent failure (dead-lettered, never retried).
fn decodes_or_is_permanent<T: DeserializeOwned>(data: Value) -> Result<(), TestCaseError> {
    let event = Envelope::new("payment.requested", 1, "order-service", "1", data);
    let decoded = decode::<T>(&event);
    prop_assert!(
        matches!(decoded, Ok(_) | Err(HandlerError::Permanent(_))),
        "not a permanent failure"
    );
    Ok(())
}

fn payment_requested() -> Value {
    json!({"order_id": Uuid::now_v7(), "user_id": Uuid::now_v7(), "amount_cents": 1250,
        "currency": "EUR", "pay_by": Utc::now()})
}

fn completed() -> Value {
    json!({"id": "evt_1", "type": "checkout.session.completed", "created": 1_700_000_000,
        "data": {"session_id": "cs_1", "reference": Uuid::now_v7(), "amount_cents": 1250,
            "currency": "EUR"}})
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn any_consumed_event_data_is_an_event_or_a_permanent_failure(
        data in prop_oneof![json(), near_miss(payment_requested())]
    ) {
        decodes_or_is_permanent::<PaymentRequested>(data.clone())?;
        decodes_or_is_permanent::<OrderCancelled>(data)?;
    }

    #[test]
    fn any_webhook_body_is_an_event_or_invalid_never_a_panic(
        body in prop_oneof![
            bytes(512),
            near_miss(completed()).prop_map(|v| serde_json::to_vec(&v).unwrap_or_default()),
        ]
    ) {
        let _ = WebhookEvent::parse(&body);
    }
}

/// POSTs `body` to the webhook with `signature`.
async fn deliver(alone: &Alone, body: Vec<u8>, signature: Option<HeaderValue>) -> Answer {
    let mut req = alone
        .client
        .post(format!("{}{WEBHOOK}", alone.address))
        .body(body);
    if let Some(signature) = signature {
        req = req.header("Sandbox-Signature", signature);
    }
    Answer::read(req.send().await.expect("request to payment-service")).await
}

/// Any header value HTTP can carry: visible ASCII, spaces, tabs and obs-text bytes.
fn header_value() -> impl Strategy<Value = HeaderValue> {
    prop_oneof![
        "[!-~]{1,300}".prop_map(|s| s.into_bytes()),
        "t=[0-9]{1,12},v1=[0-9a-f]{0,80}".prop_map(|s| s.into_bytes()),
        prop::collection::vec(
            prop_oneof![Just(b' '), Just(b'\t'), 0x21u8..=0x7e, 0x80u8..=0xff],
            0..40
        ),
    ]
    .prop_filter_map("not a header value", |bytes| {
        HeaderValue::from_bytes(&bytes).ok()
    })
}

const WEBHOOK_CODES: &[&str] = &[
    "invalid_signature",
    "stale_signature",
    "invalid_payload",
    "payload_too_large",
];

#[test]
fn arbitrary_webhooks_are_applied_or_a_documented_400_never_a_5xx() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let alone = runtime.block_on(spawn_alone());
    let alone = &alone;
    let statuses = &runtime.block_on(documented_statuses(
        &alone.client,
        &alone.address,
        "post",
        WEBHOOK,
    ));
    // Genuinely signed: the body alone decides (no payment exists, so a decodable
    // event is recorded as `unknown_payment` and acknowledged).
    let bodies = prop_oneof![
        bytes(512),
        near_miss(completed()).prop_map(|v| serde_json::to_vec(&v).unwrap_or_default()),
    ];
    run_async(&runtime, 96, bodies, |body| async move {
        let signed = signature(&body, &[SECRET], Utc::now());
        let header = HeaderValue::from_str(&signed).expect("a header value");
        let decodes = WebhookEvent::parse(&body).is_ok();
        let answer = deliver(alone, body, Some(header)).await;
        if decodes {
            prop_assert_eq!(answer.status, 200, "{:?}", answer);
        } else {
            answer.is_problem(400, "invalid_payload")?;
        }
        answer.is_documented(statuses, WEBHOOK_CODES)
    });
    // Any signature header on a valid body: refused as invalid (none can match).
    let body = serde_json::to_vec(&completed()).expect("JSON");
    let body = &body;
    run_async(
        &runtime,
        64,
        proptest::option::of(header_value()),
        |header| async move {
            let answer = deliver(alone, body.clone(), header).await;
            answer.is_problem(400, "invalid_signature")?;
            answer.is_documented(statuses, WEBHOOK_CODES)
        },
    );
}

#[test]
fn arbitrary_payment_ids_and_queries_are_a_documented_4xx() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let alone = runtime.block_on(spawn_alone());
    let alone = &alone;
    let one = &runtime.block_on(documented_statuses(
        &alone.client,
        &alone.address,
        "get",
        "/api/v1/payments/{id}",
    ));
    let by_order = &runtime.block_on(documented_statuses(
        &alone.client,
        &alone.address,
        "get",
        "/api/v1/payments",
    ));
    let get = |path: String| async move {
        let res = alone
            .client
            .get(format!("{}{path}", alone.address))
            .bearer_auth(&alone.admin)
            .send()
            .await
            .expect("request to payment-service");
        Answer::read(res).await
    };
    run_async(&runtime, 48, path_segment(), |id| async move {
        let answer = get(format!("/api/v1/payments/{id}")).await;
        prop_assert!(answer.status >= 400, "no payment exists: {answer:?}");
        answer.is_documented(one, &["invalid_path", "not_found"])
    });
    run_async(
        &runtime,
        64,
        query_string(&["order_id"]),
        |query| async move {
            let answer = get(format!("/api/v1/payments?{query}")).await;
            prop_assert!(answer.status >= 400, "no payment exists: {answer:?}");
            answer.is_documented(by_order, &["invalid_query", "not_found"])
        },
    );
}
