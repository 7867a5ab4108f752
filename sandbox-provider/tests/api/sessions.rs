//! Creating and reading checkout sessions.

use reqwest::StatusCode;

use crate::helpers::{session_body, spawn_sandbox};

#[tokio::test]
async fn a_new_session_is_open_with_its_checkout_url_and_reads_back() {
    let sandbox = spawn_sandbox(None).await;
    let body = session_body("pay_1", 2_599);
    let created = sandbox.create_session_with(Some("key-1"), &body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.str("id");
    assert!(id.starts_with("cs_") && id.len() == 35, "{id}");
    assert_eq!(created.str("status"), "open");
    assert_eq!(created.body["amount_cents"], 2_599);
    assert_eq!(created.str("currency"), "EUR");
    assert_eq!(created.str("reference"), "pay_1");
    assert_eq!(
        created.str("checkout_url"),
        format!("{}/checkout/{id}", sandbox.address)
    );
    assert!(!created.str("created_at").is_empty());
    let time = |text: &str| {
        text.parse::<chrono::DateTime<chrono::Utc>>()
            .expect("RFC 3339")
    };
    let asked = time(body["expires_at"].as_str().unwrap_or_default());
    assert_eq!(time(created.str("expires_at")), asked);

    let read = sandbox.session(id).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body, created.body);
}

#[tokio::test]
async fn the_same_key_and_body_return_the_same_session_with_200() {
    let sandbox = spawn_sandbox(None).await;
    let body = session_body("pay_2", 1_000);
    let first = sandbox.create_session_with(Some("key-2"), &body).await;
    let again = sandbox.create_session_with(Some("key-2"), &body).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.str("id"), first.str("id"));
}

#[tokio::test]
async fn the_same_key_with_another_body_is_refused_with_409() {
    let sandbox = spawn_sandbox(None).await;
    let first = sandbox
        .create_session_with(Some("key-3"), &session_body("pay_3", 1_000))
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    let other = sandbox
        .create_session_with(Some("key-3"), &session_body("pay_3", 1_001))
        .await;
    assert_eq!(other.status, StatusCode::CONFLICT);
    assert_eq!(other.code(), "idempotency_key_reused");
}

#[tokio::test]
async fn different_keys_make_different_sessions() {
    let sandbox = spawn_sandbox(None).await;
    let body = session_body("pay_4", 1_000);
    let a = sandbox.create_session_with(Some("key-4a"), &body).await;
    let b = sandbox.create_session_with(Some("key-4b"), &body).await;
    assert_eq!(
        (a.status, b.status),
        (StatusCode::CREATED, StatusCode::CREATED)
    );
    assert_ne!(a.str("id"), b.str("id"));
}

#[tokio::test]
async fn a_session_without_an_idempotency_key_is_refused_with_400() {
    let sandbox = spawn_sandbox(None).await;
    let answer = sandbox
        .create_session_with(None, &session_body("pay_5", 1_000))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.code(), "missing_idempotency_key");
}

#[tokio::test]
async fn out_of_range_fields_are_refused_with_400_invalid_request() {
    let sandbox = spawn_sandbox(None).await;
    let mut bodies = Vec::new();
    for (field, value) in [
        ("amount_cents", serde_json::json!(0)),
        ("amount_cents", serde_json::json!(-5)),
        ("currency", serde_json::json!("eur")),
        ("currency", serde_json::json!("EURO")),
        ("reference", serde_json::json!("")),
    ] {
        let mut body = session_body("pay_6", 1_000);
        body[field] = value;
        bodies.push(body);
    }
    for (i, body) in bodies.iter().enumerate() {
        let answer = sandbox
            .create_session_with(Some(&format!("key-6-{i}")), body)
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer.code(), "invalid_request", "{body}");
    }
    let malformed = sandbox
        .create_session_with(Some("key-6-x"), &serde_json::json!({ "amount_cents": 1 }))
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.code(), "invalid_json");
}

#[tokio::test]
async fn an_unknown_session_is_404_no_such_session() {
    let sandbox = spawn_sandbox(None).await;
    let read = sandbox.session("cs_nope").await;
    assert_eq!(read.status, StatusCode::NOT_FOUND);
    assert_eq!(read.code(), "no_such_session");
    let void = sandbox.void("cs_nope").await;
    assert_eq!(void.status, StatusCode::NOT_FOUND);
    assert_eq!(void.code(), "no_such_session");
    let pay = sandbox.pay("cs_nope", "4242 4242 4242 4242").await;
    assert_eq!(pay.status, StatusCode::NOT_FOUND);
    assert_eq!(pay.code(), "no_such_session");
}

#[tokio::test]
async fn sessions_are_listed_by_reference_with_whether_money_was_taken() {
    let sandbox = spawn_sandbox(None).await;
    let open = |key: &'static str, reference: &'static str| {
        let sandbox = &sandbox;
        async move {
            let body = session_body(reference, 1_000);
            let created = sandbox.create_session_with(Some(key), &body).await;
            assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
            created.str("id").to_owned()
        }
    };
    // Two sessions for one reference (a merchant that lost its key would make them).
    let paid = open("k-list-1", "pay_list_a").await;
    let declined = open("k-list-2", "pay_list_a").await;
    let other = open("k-list-3", "pay_list_b").await;
    assert_eq!(
        sandbox.pay(&paid, "4242 4242 4242 4242").await.status,
        StatusCode::OK
    );
    sandbox.pay(&declined, "4000 0000 0000 0002").await;

    let listed = sandbox
        .get_json("/v1/checkout/sessions?reference=pay_list_a")
        .await;
    let items = listed["items"].as_array().expect("items");
    let summary: Vec<(&str, bool)> = items
        .iter()
        .map(|s| (s["id"].as_str().unwrap_or_default(), s["captured"] == true))
        .collect();
    assert_eq!(summary, [(paid.as_str(), true), (declined.as_str(), false)]);

    let all = sandbox.get_json("/v1/checkout/sessions").await;
    let ids: Vec<&str> = all["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert!(ids.contains(&other.as_str()) && ids.len() == 3, "{all}");
}
