//! Consuming `creating.user`: one profile per account, exactly one answer per event.

use std::time::Duration;

use comanda_outbox::{topics, Envelope};
use comanda_testkit::eventually;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{spawn_app, App};

const WITHIN: Duration = Duration::from_secs(30);

fn creating_user(account_id: Uuid, email: &str) -> Envelope {
    Envelope::new(
        topics::CREATING_USER,
        1,
        "auth-service",
        account_id.to_string(),
        json!({
            "account_id": account_id,
            "email": email,
            "full_name": "Ann Lee",
            "phone": "+34 600 123 456",
        }),
    )
}

/// Produces `event` to the test's `creating.user`, keyed like the relay does.
async fn produce(app: &App, event: &Envelope) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &app.env.brokers)
        .create()
        .expect("producer");
    let topic = app.env.topic(topics::CREATING_USER);
    let payload = serde_json::to_vec(event).expect("serialises");
    producer
        .send(
            FutureRecord::to(&topic)
                .key(&event.aggregate_id)
                .payload(&payload),
            Duration::from_secs(10),
        )
        .await
        .expect("delivered");
}

/// The answers user-service wrote to its outbox for `account_id`, as (result, causation).
async fn answers(app: &App, account_id: Uuid) -> Vec<serde_json::Value> {
    app.db()
        .await
        .query(
            "SELECT payload FROM outbox WHERE kafka_key = $1 AND event_type = $2",
            &[&account_id.to_string(), &topics::CREATING_USER_RESPONSE],
        )
        .await
        .expect("outbox query")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[tokio::test]
async fn a_creating_user_event_delivered_twice_creates_one_profile_and_one_answer() {
    let app = spawn_app().await;
    let account = Uuid::now_v7();
    let event = creating_user(account, "ann@example.com");
    produce(&app, &event).await;
    produce(&app, &event).await;
    // A marker behind the duplicates on the same partition (same key): once it is
    // handled, both copies have been.
    let marker = Uuid::now_v7();
    let mut after = creating_user(marker, "marker@example.com");
    after.aggregate_id = account.to_string();
    produce(&app, &after).await;
    eventually(WITHIN, "the marker's profile exists", || async {
        app.count("SELECT count(*) FROM profiles WHERE id = $1", &[&marker])
            .await
            == 1
    })
    .await;

    let profile = app
        .db()
        .await
        .query_one(
            "SELECT email, full_name, phone FROM profiles WHERE id = $1",
            &[&account],
        )
        .await
        .expect("one profile with the account's id");
    assert_eq!(profile.get::<_, String>(0), "ann@example.com");
    assert_eq!(profile.get::<_, String>(1), "Ann Lee");
    assert_eq!(
        profile.get::<_, Option<String>>(2).as_deref(),
        Some("+34 600 123 456")
    );
    assert_eq!(app.count("SELECT count(*) FROM profiles", &[]).await, 2);
    let answers = answers(&app, account).await;
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(answers[0]["data"]["result"], "created");
    assert_eq!(answers[0]["data"]["account_id"], account.to_string());
    assert_eq!(answers[0]["causation_id"], event.id.to_string());
    assert_eq!(
        answers[0]["correlation_id"],
        event.correlation_id.to_string()
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM processed_messages WHERE event_id = $1",
            &[&event.id]
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_creating_user_event_for_a_known_email_is_answered_exists() {
    let app = spawn_app().await;
    let known = app.seed_profile("ann@example.com", "Ann Lee").await;
    let account = Uuid::now_v7();
    produce(&app, &creating_user(account, "ANN@example.com")).await;
    eventually(WITHIN, "an answer is written", || async {
        !answers(&app, account).await.is_empty()
    })
    .await;

    let answers = answers(&app, account).await;
    assert_eq!(answers[0]["data"]["result"], "exists");
    assert!(answers[0]["data"]["reason"].is_string());
    assert_eq!(app.count("SELECT count(*) FROM profiles", &[]).await, 1);
    assert_eq!(
        app.count("SELECT count(*) FROM profiles WHERE id = $1", &[&known])
            .await,
        1
    );
}

#[tokio::test]
async fn a_creating_user_event_with_invalid_fields_is_answered_error_without_a_profile() {
    let app = spawn_app().await;
    let account = Uuid::now_v7();
    let mut event = creating_user(account, "ann@example.com");
    event.data["full_name"] = json!("   ");
    produce(&app, &event).await;
    eventually(WITHIN, "an answer is written", || async {
        !answers(&app, account).await.is_empty()
    })
    .await;

    let answers = answers(&app, account).await;
    assert_eq!(answers[0]["data"]["result"], "error");
    assert!(answers[0]["data"]["reason"]
        .as_str()
        .is_some_and(|r| r.contains("full_name")));
    assert_eq!(app.count("SELECT count(*) FROM profiles", &[]).await, 0);
}

#[tokio::test]
async fn a_creating_user_event_whose_email_holds_a_nul_is_answered_error_without_a_profile() {
    let app = spawn_app().await;
    let account = Uuid::now_v7();
    produce(&app, &creating_user(account, "ann\u{0}@example.com")).await;
    eventually(WITHIN, "an answer is written", || async {
        !answers(&app, account).await.is_empty()
    })
    .await;

    let answers = answers(&app, account).await;
    assert_eq!(answers[0]["data"]["result"], "error");
    assert!(answers[0]["data"]["reason"]
        .as_str()
        .is_some_and(|r| r.contains("email")));
    assert_eq!(app.count("SELECT count(*) FROM profiles", &[]).await, 0);
}

#[tokio::test]
async fn a_creating_user_sent_again_under_a_new_id_is_answered_created_again_with_one_profile() {
    let app = spawn_app().await;
    let account = Uuid::now_v7();
    produce(&app, &creating_user(account, "ann@example.com")).await;
    // auth-service got no answer in time and sends the request again: a new event.
    produce(&app, &creating_user(account, "ann@example.com")).await;
    eventually(WITHIN, "both requests are answered", || async {
        answers(&app, account).await.len() == 2
    })
    .await;

    let answers = answers(&app, account).await;
    assert!(
        answers.iter().all(|a| a["data"]["result"] == "created"),
        "{answers:?}"
    );
    assert_eq!(app.count("SELECT count(*) FROM profiles", &[]).await, 1);
}

#[tokio::test]
async fn a_registration_given_up_loses_the_profile_a_late_request_made_and_frees_its_email() {
    let app = spawn_app().await;
    let given_up = Uuid::now_v7();
    // The request arrives late, after auth-service gave the registration up; the
    // cancel follows it on the same partition.
    produce(&app, &creating_user(given_up, "ann@example.com")).await;
    let cancel = Envelope::new(
        "creating.user.cancelled",
        1,
        "auth-service",
        given_up.to_string(),
        json!({ "account_id": given_up }),
    );
    produce(&app, &cancel).await;
    eventually(WITHIN, "the cancel is processed", || async {
        app.count(
            "SELECT count(*) FROM processed_messages WHERE event_id = $1",
            &[&cancel.id],
        )
        .await
            == 1
    })
    .await;
    assert_eq!(app.count("SELECT count(*) FROM profiles", &[]).await, 0);
    assert_eq!(
        answers(&app, given_up).await.len(),
        1,
        "the cancel is not answered"
    );

    // The same person registers again: a new account, and the email is free.
    let again = Uuid::now_v7();
    produce(&app, &creating_user(again, "ann@example.com")).await;
    eventually(WITHIN, "the new registration is answered", || async {
        !answers(&app, again).await.is_empty()
    })
    .await;
    assert_eq!(answers(&app, again).await[0]["data"]["result"], "created");
    assert_eq!(
        app.count("SELECT count(*) FROM profiles WHERE id = $1", &[&again])
            .await,
        1
    );
}
