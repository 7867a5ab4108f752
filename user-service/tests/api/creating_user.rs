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
