//! Voiding sessions, and the charge that completes after its session was voided.

use reqwest::StatusCode;
use sandbox_provider::webhooks::EventType;

use crate::helpers::{accepted_events, session_body_expiring, spawn_sandbox};
use crate::receiver::Receiver;

#[tokio::test]
async fn voiding_an_open_session_voids_it_and_voiding_again_changes_nothing() {
    let sandbox = spawn_sandbox(None).await;
    let id = sandbox.open_session("void_open", 700).await;
    for _ in 0..2 {
        let voided = sandbox.void(&id).await;
        assert_eq!(voided.status, StatusCode::OK, "{}", voided.body);
        assert_eq!(voided.str("status"), "voided");
    }
}

#[tokio::test]
async fn an_expired_session_can_be_voided() {
    let sandbox = spawn_sandbox(None).await;
    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    let created = sandbox
        .create_session_with(Some("void_expired"), &session_body_expiring("r", 700, past))
        .await;
    let voided = sandbox.void(created.str("id")).await;
    assert_eq!(voided.status, StatusCode::OK);
    assert_eq!(voided.str("status"), "voided");
}

#[tokio::test]
async fn a_paid_or_refunded_session_cannot_be_voided_409() {
    let sandbox = spawn_sandbox(None).await;
    let id = sandbox.open_session("void_paid", 700).await;
    assert_eq!(
        sandbox.pay(&id, "4242424242424242").await.status,
        StatusCode::OK
    );
    let paid = sandbox.void(&id).await;
    assert_eq!(paid.status, StatusCode::CONFLICT);
    assert_eq!(paid.code(), "session_paid");
    assert_eq!(sandbox.status(&id).await, "paid");

    assert_eq!(
        sandbox.refund("re-1", &id, 700).await.status,
        StatusCode::CREATED
    );
    let refunded = sandbox.void(&id).await;
    assert_eq!(refunded.status, StatusCode::CONFLICT);
    assert_eq!(refunded.code(), "session_paid");
    assert_eq!(sandbox.status(&id).await, "refunded");
}

#[tokio::test]
async fn voiding_a_failed_session_answers_200_and_it_stays_failed() {
    let sandbox = spawn_sandbox(None).await;
    let id = sandbox.open_session("void_failed", 700).await;
    assert_eq!(
        sandbox.pay(&id, "4000000000000002").await.str("status"),
        "failed"
    );
    let voided = sandbox.void(&id).await;
    assert_eq!(voided.status, StatusCode::OK);
    assert_eq!(voided.str("status"), "failed");
}

#[tokio::test]
async fn a_session_voided_while_processing_still_completes_and_sends_completed() {
    let receiver = Receiver::start().await;
    let sandbox = spawn_sandbox(Some(&receiver)).await;
    let id = sandbox.open_session("void_processing", 1_100).await;
    assert_eq!(
        sandbox.pay(&id, "4000 0000 0000 3220").await.str("status"),
        "processing"
    );
    let voided = sandbox.void(&id).await;
    assert_eq!(voided.status, StatusCode::OK);
    assert_eq!(voided.str("status"), "voided");

    // The charge was already at the network: it completes, and says so.
    let events = accepted_events(&receiver, 1).await;
    assert_eq!(events[0].kind, EventType::Completed);
    assert_eq!(events[0].data.session_id, id);
    assert_eq!(sandbox.status(&id).await, "voided");
    // Voiding again still answers 200; the money is refundable.
    assert_eq!(sandbox.void(&id).await.status, StatusCode::OK);
    let refund = sandbox.refund("re-voided", &id, 1_100).await;
    assert_eq!(refund.status, StatusCode::CREATED, "{}", refund.body);
    assert_eq!(sandbox.status(&id).await, "refunded");
}
