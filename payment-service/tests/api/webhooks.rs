//! The webhook: signature checked on the raw body before anything else, one effect
//! per provider event id, 2xx only after the effect committed.

use chrono::{Duration, Utc};
use comanda_outbox::topics::{PAYMENT_FAILED, PAYMENT_SUCCEEDED};
use comanda_testkit::{eventually, faults};
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{
    payment_id, signature, webhook_body, Payments, Setup, CARD_OK, RETIRED_SECRET, SECRET, WITHIN,
};

const COMPLETED: &str = "checkout.session.completed";

/// An open payment and a `checkout.session.completed` body for it (not yet sent).
async fn completed_body(payments: &Payments, event_id: &str) -> (Uuid, Vec<u8>) {
    let (order_id, _user, session_id) = payments.open_payment(1_500).await;
    let reference = payment_id(payments, order_id).await;
    let body = webhook_body(event_id, COMPLETED, &session_id, reference, 1_500);
    (order_id, body)
}

/// Asserts a 400 problem with `code`, and that no webhook was stored and the
/// payment of `order_id` is still PENDING with no outcome published.
async fn assert_refused(payments: &Payments, res: reqwest::Response, code: &str, order_id: Uuid) {
    assert_eq!(res.status().as_u16(), 400);
    let content_type = res.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let problem: Value = res.json().await.expect("a problem");
    assert_eq!(problem["code"], code, "{problem}");
    assert_eq!(
        payments.count("SELECT count(*) FROM webhook_events").await,
        0
    );
    assert_eq!(payments.status(order_id).await.as_deref(), Some("PENDING"));
    assert!(payments
        .outbox(PAYMENT_SUCCEEDED, order_id)
        .await
        .is_empty());
}

#[tokio::test]
async fn a_webhook_event_delivered_five_times_at_once_has_one_effect() {
    let payments = Payments::start().await;
    let (order_id, body) = completed_body(&payments, "evt_dup_1").await;
    let signed = signature(&body, &[SECRET], Utc::now());

    let deliveries = (0..5).map(|_| payments.post_webhook(&body, Some(&signed)));
    let answers = futures::future::join_all(deliveries).await;
    let mut duplicates = 0;
    for res in answers {
        assert_eq!(res.status().as_u16(), 200);
        let body: Value = res.json().await.expect("JSON");
        duplicates += usize::from(body["duplicate"] == true);
    }
    assert_eq!(duplicates, 4);
    // And once more, later.
    let res = payments.post_webhook(&body, Some(&signed)).await;
    assert_eq!(res.status().as_u16(), 200);

    assert_eq!(
        payments.status(order_id).await.as_deref(),
        Some("SUCCEEDED")
    );
    assert_eq!(payments.outbox(PAYMENT_SUCCEEDED, order_id).await.len(), 1);
    assert_eq!(
        payments.count("SELECT count(*) FROM webhook_events").await,
        1
    );
}

#[tokio::test]
async fn a_sandbox_that_sends_every_webhook_twice_has_each_applied_once() {
    let payments = Payments::start_with(Setup {
        duplicate_webhooks: true,
        ..Setup::default()
    })
    .await;
    let (order_id, _user, session_id) = payments.open_payment(2_500).await;
    assert_eq!(
        payments.pay(&session_id, CARD_OK).await.status().as_u16(),
        200
    );
    payments.wait_for(order_id, "SUCCEEDED").await;
    let duplicate =
        "payment_webhooks_total{type=\"checkout.session.completed\",outcome=\"duplicate\"} 1";
    eventually(WITHIN, "the second delivery is answered", || async {
        payments.metrics().await.contains(duplicate)
    })
    .await;
    assert_eq!(payments.outbox(PAYMENT_SUCCEEDED, order_id).await.len(), 1);
    assert_eq!(
        payments.count("SELECT count(*) FROM webhook_events").await,
        1
    );
}

#[tokio::test]
async fn a_forged_signature_is_refused_and_nothing_is_stored() {
    let payments = Payments::start().await;
    let (order_id, body) = completed_body(&payments, "evt_forged").await;
    let forged = signature(&body, &["whsec_forger"], Utc::now());
    let res = payments.post_webhook(&body, Some(&forged)).await;
    assert_refused(&payments, res, "invalid_signature", order_id).await;
    // A genuine signature of another body does not cover this one either.
    let other = webhook_body("evt_other", COMPLETED, "cs_x", Uuid::now_v7(), 1);
    let lifted = signature(&other, &[SECRET], Utc::now());
    let res = payments.post_webhook(&body, Some(&lifted)).await;
    assert_refused(&payments, res, "invalid_signature", order_id).await;
    let res = payments.post_webhook(&body, None).await;
    assert_refused(&payments, res, "invalid_signature", order_id).await;
    let metrics = payments.metrics().await;
    assert!(
        metrics
            .contains("payment_webhook_verification_failures_total{code=\"invalid_signature\"} 3"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_webhook_body_over_64_kib_is_refused_and_nothing_is_stored() {
    let payments = Payments::start().await;
    let (order_id, _body) = completed_body(&payments, "evt_big").await;
    let body = vec![b' '; 64 * 1024 + 1];
    let signed = signature(&body, &[SECRET], Utc::now());
    let res = payments.post_webhook(&body, Some(&signed)).await;
    assert_eq!(res.status().as_u16(), 413);
    let problem: Value = res.json().await.expect("a problem");
    assert_eq!(problem["code"], "payload_too_large");
    assert_eq!(
        payments.count("SELECT count(*) FROM webhook_events").await,
        0
    );
    assert_eq!(payments.status(order_id).await.as_deref(), Some("PENDING"));
}

#[tokio::test]
async fn a_webhook_signed_only_with_a_retired_secret_is_refused() {
    let payments = Payments::start().await;
    let (order_id, body) = completed_body(&payments, "evt_retired").await;
    let old = signature(&body, &[RETIRED_SECRET], Utc::now());
    let res = payments.post_webhook(&body, Some(&old)).await;
    assert_refused(&payments, res, "invalid_signature", order_id).await;
    // Signed with both, as a provider does during a rotation, it is accepted.
    let both = signature(&body, &[RETIRED_SECRET, SECRET], Utc::now());
    let res = payments.post_webhook(&body, Some(&both)).await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        payments.status(order_id).await.as_deref(),
        Some("SUCCEEDED")
    );
}

#[tokio::test]
async fn a_stale_signature_is_refused_even_under_the_current_secret() {
    let payments = Payments::start().await;
    let (order_id, body) = completed_body(&payments, "evt_stale").await;
    let stale = signature(&body, &[SECRET], Utc::now() - Duration::seconds(301));
    let res = payments.post_webhook(&body, Some(&stale)).await;
    assert_refused(&payments, res, "stale_signature", order_id).await;
    let future = signature(&body, &[SECRET], Utc::now() + Duration::seconds(301));
    let res = payments.post_webhook(&body, Some(&future)).await;
    assert_refused(&payments, res, "stale_signature", order_id).await;
}

#[tokio::test]
async fn a_signed_body_that_is_no_event_is_refused_as_invalid_payload() {
    let payments = Payments::start().await;
    let (order_id, _body) = completed_body(&payments, "evt_unused").await;
    for body in [
        &b"not json"[..],
        br#"{"id":"evt_1","type":"checkout.session.completed"}"#,
    ] {
        let signed = signature(body, &[SECRET], Utc::now());
        let res = payments.post_webhook(body, Some(&signed)).await;
        assert_refused(&payments, res, "invalid_payload", order_id).await;
    }
}

#[tokio::test]
async fn a_webhook_about_no_payment_of_ours_is_recorded_and_acknowledged() {
    let payments = Payments::start().await;
    let body = webhook_body("evt_stranger", COMPLETED, "cs_unknown", Uuid::now_v7(), 100);
    let signed = signature(&body, &[SECRET], Utc::now());
    let res = payments.post_webhook(&body, Some(&signed)).await;
    assert_eq!(res.status().as_u16(), 200);
    let answer: Value = res.json().await.expect("JSON");
    assert_eq!(answer["outcome"], "unknown_payment");
    assert_eq!(
        payments
            .count("SELECT count(*) FROM webhook_events WHERE outcome = 'unknown_payment'")
            .await,
        1
    );
    assert_eq!(payments.count("SELECT count(*) FROM outbox").await, 0);
}

#[tokio::test]
async fn a_failure_reported_after_the_success_changes_nothing() {
    let payments = Payments::start().await;
    let (order_id, _user, session_id) = payments.open_payment(700).await;
    assert_eq!(
        payments.pay(&session_id, CARD_OK).await.status().as_u16(),
        200
    );
    payments.wait_for(order_id, "SUCCEEDED").await;

    let reference = payment_id(&payments, order_id).await;
    let mut late: Value = serde_json::from_slice(&webhook_body(
        "evt_late_failure",
        "checkout.session.payment_failed",
        &session_id,
        reference,
        700,
    ))
    .expect("JSON");
    late["data"]["failure_reason"] = "card_declined".into();
    let body = serde_json::to_vec(&late).expect("JSON");
    let signed = signature(&body, &[SECRET], Utc::now());
    let res = payments.post_webhook(&body, Some(&signed)).await;
    assert_eq!(res.status().as_u16(), 200);
    let answer: Value = res.json().await.expect("JSON");
    assert_eq!(answer["outcome"], "ignored");
    assert_eq!(
        payments.status(order_id).await.as_deref(),
        Some("SUCCEEDED")
    );
    assert!(payments.outbox(PAYMENT_FAILED, order_id).await.is_empty());
}

#[tokio::test]
async fn a_webhook_the_database_cannot_take_is_a_503_and_applies_when_delivered_again() {
    let payments = Payments::start().await;
    let (order_id, body) = completed_body(&payments, "evt_db_down").await;
    let signed = signature(&body, &[SECRET], Utc::now());
    let url = payments.app.database_url.clone().expect("a database");

    faults::set_read_only(&url, true).await;
    let res = payments.post_webhook(&body, Some(&signed)).await;
    assert_eq!(res.status().as_u16(), 503);
    let problem: Value = res.json().await.expect("a problem");
    assert_eq!(problem["code"], "unavailable");
    faults::set_read_only(&url, false).await;

    assert_eq!(
        payments.count("SELECT count(*) FROM webhook_events").await,
        0
    );
    // The provider delivers again until it gets a 2xx (the pool reconnects meanwhile).
    eventually(WITHIN, "a redelivery is accepted", || async {
        payments
            .post_webhook(&body, Some(&signed))
            .await
            .status()
            .as_u16()
            == 200
    })
    .await;
    assert_eq!(
        payments.status(order_id).await.as_deref(),
        Some("SUCCEEDED")
    );
    assert_eq!(payments.outbox(PAYMENT_SUCCEEDED, order_id).await.len(), 1);
}
