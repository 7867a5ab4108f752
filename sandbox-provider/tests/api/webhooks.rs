//! Webhook delivery: signatures, retries until 2xx, and the misbehaviour knobs.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use sandbox_provider::signature::Signature;

use crate::helpers::{accepted_events, barrier, settings, spawn_with, PATIENCE};
use crate::receiver::Receiver;

#[tokio::test]
async fn every_delivery_is_signed_with_each_configured_secret() {
    let receiver = Receiver::start().await;
    let mut settings = settings(Some(&receiver));
    settings.webhook.secrets = vec!["whsec_old".to_owned().into(), "whsec_new".to_owned().into()];
    let sandbox = spawn_with(settings).await;
    let id = sandbox.open_session("signed", 500).await;
    assert_eq!(
        sandbox.pay(&id, "4242424242424242").await.status,
        StatusCode::OK
    );
    accepted_events(&receiver, 1).await;

    let delivery = &receiver.deliveries()[0];
    let signature = Signature::parse(&delivery.signature).expect("a Sandbox-Signature header");
    assert_eq!(signature.v1.len(), 2, "{}", delivery.signature);
    assert!(signature.matches("whsec_old", &delivery.body));
    assert!(signature.matches("whsec_new", &delivery.body));
    assert!(!signature.matches("whsec_other", &delivery.body));
    let mut tampered = delivery.body.clone();
    tampered.push(b' ');
    assert!(!signature.matches("whsec_new", &tampered));
    let age = chrono::Utc::now().timestamp() - signature.t;
    assert!((0..300).contains(&age), "signed {age} s ago");
}

#[tokio::test]
async fn a_refused_event_is_retried_until_the_receiver_answers_2xx() {
    let receiver = Receiver::failing_first(3).await;
    let sandbox = spawn_with(settings(Some(&receiver))).await;
    let id = sandbox.open_session("retried", 500).await;
    assert_eq!(
        sandbox.pay(&id, "4242424242424242").await.status,
        StatusCode::OK
    );
    let accepted = accepted_events(&receiver, 1).await;

    let deliveries = receiver.deliveries();
    let statuses: Vec<u16> = deliveries.iter().map(|d| d.status).collect();
    assert_eq!(statuses, [500, 500, 500, 204]);
    // The same event each time, each attempt signed validly.
    for delivery in &deliveries {
        assert_eq!(delivery.event(), accepted[0]);
        let signature = Signature::parse(&delivery.signature).expect("signed");
        assert!(signature.matches(crate::helpers::SECRET, &delivery.body));
    }
}

#[tokio::test]
async fn the_duplicate_knob_sends_each_event_twice_with_the_same_id() {
    let receiver = Receiver::start().await;
    let mut settings = settings(Some(&receiver));
    settings.webhook.duplicate = true;
    let sandbox = spawn_with(settings).await;
    let id = sandbox.open_session("twice", 500).await;
    assert_eq!(
        sandbox.pay(&id, "4242424242424242").await.status,
        StatusCode::OK
    );
    let events = accepted_events(&receiver, 2).await;
    assert_eq!(events[0], events[1]);
    assert_eq!(events[0].data.session_id, id);

    barrier(&sandbox, &receiver).await;
    let copies = receiver
        .accepted()
        .iter()
        .filter(|e| e.data.session_id == id)
        .count();
    assert_eq!(copies, 2);
}

#[tokio::test]
async fn the_out_of_order_knob_delivers_each_batch_in_reverse_order() {
    let receiver = Receiver::start().await;
    let mut settings = settings(Some(&receiver));
    settings.webhook.out_of_order = true;
    // One at a time, so arrival order is start order.
    settings.webhook.concurrency = 1;
    // Wide enough that the three payments below fall in one batch on a slow machine.
    settings.webhook.batch_window_ms = 3_000;
    let sandbox = spawn_with(settings).await;
    let mut sessions = Vec::new();
    for reference in ["first", "second", "third"] {
        let id = sandbox.open_session(reference, 500).await;
        assert_eq!(
            sandbox.pay(&id, "4242424242424242").await.status,
            StatusCode::OK
        );
        sessions.push(id);
    }
    let events = accepted_events(&receiver, 3).await;
    let order: Vec<&str> = events.iter().map(|e| e.data.reference.as_str()).collect();
    assert_eq!(order, ["third", "second", "first"]);
}

#[tokio::test]
async fn the_delay_knob_holds_every_event_before_its_first_attempt() {
    let receiver = Receiver::start().await;
    let mut settings = settings(Some(&receiver));
    settings.webhook.delay_ms = 500;
    let sandbox = spawn_with(settings).await;
    let id = sandbox.open_session("late", 500).await;
    let paid_at = Instant::now();
    assert_eq!(
        sandbox.pay(&id, "4242424242424242").await.status,
        StatusCode::OK
    );
    // A lower bound only: the event cannot arrive before the delay has passed.
    accepted_events(&receiver, 1).await;
    assert!(paid_at.elapsed() >= Duration::from_millis(500));
    assert!(paid_at.elapsed() < PATIENCE);
}

#[tokio::test]
async fn without_a_webhook_url_events_are_dropped_and_the_api_still_works() {
    let sandbox = spawn_with(settings(None)).await;
    let id = sandbox.open_session("unheard", 500).await;
    let paid = sandbox.pay(&id, "4242424242424242").await;
    assert_eq!(paid.status, StatusCode::OK);
    assert_eq!(paid.str("status"), "paid");
}

#[tokio::test]
async fn a_slow_receiver_gets_several_events_at_once_and_each_once() {
    let receiver = Receiver::slow(Duration::from_millis(400)).await;
    let sandbox = spawn_with(settings(Some(&receiver))).await;
    let mut sessions = Vec::new();
    for n in 0..4 {
        let id = sandbox.open_session(&format!("busy-{n}"), 500).await;
        assert_eq!(
            sandbox.pay(&id, "4242424242424242").await.status,
            StatusCode::OK
        );
        sessions.push(id);
    }

    let events = accepted_events(&receiver, 4).await;

    assert!(
        receiver.most_at_once() >= 2,
        "each event waited for the answer to the one before"
    );
    for id in &sessions {
        assert_eq!(
            events.iter().filter(|e| e.data.session_id == *id).count(),
            1,
            "{id}"
        );
    }
}
