//! The hosted checkout: each test card's outcome, the delayed card, expiry.

use reqwest::StatusCode;
use sandbox_provider::domain::FailureReason;
use sandbox_provider::webhooks::EventType;

use crate::helpers::{accepted_events, session_body_expiring, spawn_sandbox};
use crate::receiver::Receiver;

#[tokio::test]
async fn card_4242_pays_the_session_and_sends_completed() {
    let receiver = Receiver::start().await;
    let sandbox = spawn_sandbox(Some(&receiver)).await;
    let id = sandbox.open_session("pay_ok", 1_250).await;
    let paid = sandbox.pay(&id, "4242 4242 4242 4242").await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.body);
    assert_eq!(paid.str("status"), "paid");
    assert_eq!(sandbox.status(&id).await, "paid");

    let events = accepted_events(&receiver, 1).await;
    let event = &events[0];
    assert!(event.id.starts_with("evt_"), "{}", event.id);
    assert_eq!(event.kind, EventType::Completed);
    assert_eq!(event.data.session_id, id);
    assert_eq!(event.data.reference, "pay_ok");
    assert_eq!(event.data.amount_cents, 1_250);
    assert_eq!(event.data.currency, "EUR");
    assert_eq!(event.data.failure_reason, None);
}

#[tokio::test]
async fn the_declining_cards_fail_the_session_with_their_reason() {
    let receiver = Receiver::start().await;
    let sandbox = spawn_sandbox(Some(&receiver)).await;
    let cases = [
        (
            "4000 0000 0000 0002",
            "card_declined",
            FailureReason::CardDeclined,
        ),
        (
            "4000000000009995",
            "insufficient_funds",
            FailureReason::InsufficientFunds,
        ),
    ];
    for (i, (card, reason, expected)) in cases.into_iter().enumerate() {
        let id = sandbox.open_session(&format!("pay_{reason}"), 800).await;
        let failed = sandbox.pay(&id, card).await;
        assert_eq!(failed.status, StatusCode::OK, "{}", failed.body);
        assert_eq!(failed.str("status"), "failed");
        assert_eq!(failed.str("failure_reason"), reason);
        let events = accepted_events(&receiver, i + 1).await;
        let event = events
            .iter()
            .find(|e| e.data.session_id == id)
            .unwrap_or_else(|| panic!("no event for {card}: {events:?}"));
        assert_eq!(event.kind, EventType::PaymentFailed);
        assert_eq!(event.data.failure_reason, Some(expected));
    }
    assert_eq!(accepted_events(&receiver, 2).await.len(), 2);
}

#[tokio::test]
async fn card_3220_is_processing_first_and_paid_after_the_delay() {
    let receiver = Receiver::start().await;
    let sandbox = spawn_sandbox(Some(&receiver)).await;
    let id = sandbox.open_session("pay_later", 900).await;
    let processing = sandbox.pay(&id, "4000 0000 0000 3220").await;
    assert_eq!(processing.status, StatusCode::OK, "{}", processing.body);
    assert_eq!(processing.str("status"), "processing");
    sandbox.wait_for_status(&id, "paid").await;
    let events = accepted_events(&receiver, 1).await;
    assert_eq!(events[0].kind, EventType::Completed);
    assert_eq!(events[0].data.session_id, id);
}

#[tokio::test]
async fn a_session_past_its_expiry_is_expired_and_paying_it_is_410() {
    let sandbox = spawn_sandbox(None).await;
    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    let created = sandbox
        .create_session_with(Some("late"), &session_body_expiring("pay_late", 500, past))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.str("status"), "expired");
    let id = created.str("id");
    let pay = sandbox.pay(id, "4242 4242 4242 4242").await;
    assert_eq!(pay.status, StatusCode::GONE);
    assert_eq!(pay.code(), "session_expired");
    assert_eq!(sandbox.status(id).await, "expired");
}

#[tokio::test]
async fn a_session_that_expires_while_open_refuses_the_card_with_410() {
    let sandbox = spawn_sandbox(None).await;
    let soon = chrono::Utc::now() + chrono::Duration::milliseconds(300);
    let created = sandbox
        .create_session_with(Some("soon"), &session_body_expiring("pay_soon", 500, soon))
        .await;
    let id = created.str("id");
    sandbox.wait_for_status(id, "expired").await;
    let pay = sandbox.pay(id, "4242 4242 4242 4242").await;
    assert_eq!(pay.status, StatusCode::GONE);
    assert_eq!(pay.code(), "session_expired");
}

#[tokio::test]
async fn a_session_that_is_not_open_takes_no_card_409() {
    let sandbox = spawn_sandbox(None).await;
    let id = sandbox.open_session("pay_twice", 500).await;
    assert_eq!(
        sandbox.pay(&id, "4242424242424242").await.status,
        StatusCode::OK
    );
    let again = sandbox.pay(&id, "4242424242424242").await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "session_not_open");

    let voided = sandbox.open_session("pay_voided", 500).await;
    assert_eq!(sandbox.void(&voided).await.status, StatusCode::OK);
    let pay = sandbox.pay(&voided, "4242424242424242").await;
    assert_eq!(pay.status, StatusCode::CONFLICT);
    assert_eq!(pay.code(), "session_not_open");
}

#[tokio::test]
async fn numbers_that_are_not_test_cards_are_refused_with_400() {
    let sandbox = spawn_sandbox(None).await;
    let id = sandbox.open_session("pay_bad_card", 500).await;
    let unknown = sandbox.pay(&id, "5555 5555 5555 4444").await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.code(), "unknown_card");
    let garbage = sandbox.pay(&id, "4242-4242-4242-4242").await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
    assert_eq!(garbage.code(), "invalid_card");
    assert_eq!(sandbox.status(&id).await, "open");
}

#[tokio::test]
async fn the_checkout_page_is_a_card_form_showing_the_amount() {
    let sandbox = spawn_sandbox(None).await;
    let id = sandbox.open_session("<script>", 1_999).await;
    let (status, html) = sandbox.get_text(&format!("/checkout/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("19.99 EUR"), "{html}");
    assert!(html.contains(&format!("/checkout/{id}/pay")), "{html}");
    assert!(
        html.contains("&lt;script&gt;") && !html.contains("<script>alert"),
        "{html}"
    );
    let (missing, _) = sandbox.get_text("/checkout/cs_nope").await;
    assert_eq!(missing, StatusCode::NOT_FOUND);
}
