//! Refunds: only of captured sessions, idempotent on the key.

use reqwest::StatusCode;
use sandbox_provider::webhooks::EventType;

use crate::helpers::{accepted_events, barrier, settings, spawn_sandbox, spawn_with};
use crate::receiver::Receiver;

#[tokio::test]
async fn refunding_a_paid_session_refunds_it_and_sends_charge_refunded() {
    let receiver = Receiver::start().await;
    let sandbox = spawn_sandbox(Some(&receiver)).await;
    let id = sandbox.open_session("refund_paid", 3_000).await;
    assert_eq!(
        sandbox.pay(&id, "4242424242424242").await.status,
        StatusCode::OK
    );
    let refund = sandbox.refund("refund-1", &id, 3_000).await;
    assert_eq!(refund.status, StatusCode::CREATED, "{}", refund.body);
    let refund_id = refund.str("id");
    assert!(
        refund_id.starts_with("re_") && refund_id.len() == 35,
        "{refund_id}"
    );
    assert_eq!(refund.str("session_id"), id);
    assert_eq!(refund.body["amount_cents"], 3_000);
    assert_eq!(refund.str("status"), "succeeded");
    assert_eq!(sandbox.status(&id).await, "refunded");

    let events = accepted_events(&receiver, 2).await;
    assert_eq!(events[0].kind, EventType::Completed);
    assert_eq!(events[1].kind, EventType::Refunded);
    assert_eq!(events[1].data.session_id, id);
    assert_eq!(events[1].data.refund_id.as_deref(), Some(refund_id));
    assert_eq!(events[1].data.amount_cents, 3_000);
    assert_ne!(events[0].id, events[1].id);
}

#[tokio::test]
async fn a_replayed_refund_returns_the_same_refund_and_refunds_once() {
    let receiver = Receiver::start().await;
    let sandbox = spawn_sandbox(Some(&receiver)).await;
    let id = sandbox.open_session("refund_replay", 3_000).await;
    assert_eq!(
        sandbox.pay(&id, "4242424242424242").await.status,
        StatusCode::OK
    );
    let first = sandbox.refund("refund-2", &id, 3_000).await;
    let again = sandbox.refund("refund-2", &id, 3_000).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body, first.body);

    barrier(&sandbox, &receiver).await;
    let refunds = receiver
        .accepted()
        .into_iter()
        .filter(|e| e.kind == EventType::Refunded)
        .count();
    assert_eq!(refunds, 1);
}

#[tokio::test]
async fn a_refund_key_reused_with_another_body_is_409() {
    let sandbox = spawn_sandbox(None).await;
    let id = sandbox.open_session("refund_reuse", 3_000).await;
    assert_eq!(
        sandbox.pay(&id, "4242424242424242").await.status,
        StatusCode::OK
    );
    assert_eq!(
        sandbox.refund("refund-3", &id, 3_000).await.status,
        StatusCode::CREATED
    );
    let other = sandbox.refund("refund-3", &id, 2_000).await;
    assert_eq!(other.status, StatusCode::CONFLICT);
    assert_eq!(other.code(), "idempotency_key_reused");
}

#[tokio::test]
async fn a_session_without_a_captured_charge_cannot_be_refunded_409() {
    // The delayed card's charge stays pending for the whole test.
    let mut settings = settings(None);
    settings.delayed_success_ms = 600_000;
    let sandbox = spawn_with(settings).await;
    let open = sandbox.open_session("refund_open", 3_000).await;
    let voided = sandbox.open_session("refund_voided", 3_000).await;
    assert_eq!(sandbox.void(&voided).await.status, StatusCode::OK);
    let failed = sandbox.open_session("refund_failed", 3_000).await;
    assert_eq!(
        sandbox.pay(&failed, "4000000000009995").await.str("status"),
        "failed"
    );
    let processing = sandbox.open_session("refund_processing", 3_000).await;
    let pay = sandbox.pay(&processing, "4000000000003220").await;
    assert_eq!(pay.str("status"), "processing");
    let voided_processing = sandbox
        .open_session("refund_voided_processing", 3_000)
        .await;
    sandbox.pay(&voided_processing, "4000000000003220").await;
    assert_eq!(
        sandbox.void(&voided_processing).await.status,
        StatusCode::OK
    );
    for id in [&open, &voided, &failed, &processing, &voided_processing] {
        let refund = sandbox.refund(&format!("refund-{id}"), id, 3_000).await;
        assert_eq!(refund.status, StatusCode::CONFLICT, "{}", refund.body);
        assert_eq!(refund.code(), "not_captured");
    }
}

#[tokio::test]
async fn a_second_refund_under_another_key_is_409_already_refunded() {
    let sandbox = spawn_sandbox(None).await;
    let id = sandbox.open_session("refund_twice", 3_000).await;
    assert_eq!(
        sandbox.pay(&id, "4242424242424242").await.status,
        StatusCode::OK
    );
    assert_eq!(
        sandbox.refund("refund-5a", &id, 3_000).await.status,
        StatusCode::CREATED
    );
    let second = sandbox.refund("refund-5b", &id, 3_000).await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    assert_eq!(second.code(), "already_refunded");
}

#[tokio::test]
async fn refund_amounts_outside_the_session_amount_and_unknown_sessions_are_refused() {
    let sandbox = spawn_sandbox(None).await;
    let id = sandbox.open_session("refund_amount", 3_000).await;
    assert_eq!(
        sandbox.pay(&id, "4242424242424242").await.status,
        StatusCode::OK
    );
    for (i, amount) in [0, -1, 3_001].into_iter().enumerate() {
        let refund = sandbox.refund(&format!("refund-6-{i}"), &id, amount).await;
        assert_eq!(refund.status, StatusCode::BAD_REQUEST, "{amount}");
        assert_eq!(refund.code(), "invalid_amount");
    }
    assert_eq!(sandbox.status(&id).await, "paid");
    let unknown = sandbox.refund("refund-6-x", "cs_nope", 100).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.code(), "no_such_session");
}

#[tokio::test]
async fn a_refund_without_an_idempotency_key_is_400() {
    let sandbox = spawn_sandbox(None).await;
    let answer = reqwest::Client::new()
        .post(format!("{}/v1/refunds", sandbox.address))
        .json(&serde_json::json!({ "session_id": "cs_x", "amount_cents": 1 }))
        .send()
        .await
        .expect("an answer");
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = answer.json().await.expect("problem json");
    assert_eq!(body["code"], "missing_idempotency_key");
}
