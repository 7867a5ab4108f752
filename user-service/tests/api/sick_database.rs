//! A user database that turns read-only never dead-letters a registration's
//! `creating.user`: the profile is created and answered once it takes writes again.

use std::time::Duration;

use comanda_outbox::{topics, Envelope};
use comanda_testkit::{eventually, faults};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_database_never_dead_letters_a_registration_and_it_is_answered_once_writable() {
    let app = spawn_app().await;
    let url = app.app.database_url.clone().expect("database url");
    faults::set_read_only(&url, true).await;
    let account = Uuid::now_v7();
    let event = Envelope::new(
        topics::CREATING_USER,
        1,
        "auth-service",
        account.to_string(),
        json!({"account_id": account, "email": "ro@example.com", "full_name": "Ro Only"}),
    );
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &app.env.brokers)
        .create()
        .expect("producer");
    producer
        .send(
            FutureRecord::to(&app.env.topic(topics::CREATING_USER))
                .key(&event.aggregate_id)
                .payload(&serde_json::to_vec(&event).expect("json")),
            Duration::from_secs(10),
        )
        .await
        .expect("delivered");

    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(app.env.dead_letters().await, 0, "nothing dead-lettered");
    let ready = app
        .app
        .client
        .get(format!("{}/ready", app.app.address))
        .send()
        .await
        .expect("ready");
    assert_eq!(ready.status().as_u16(), 503, "/ready reports the stall");

    faults::set_read_only(&url, false).await;
    eventually(
        Duration::from_secs(30),
        "the registration is answered",
        || async {
            app.count(
                "SELECT count(*) FROM outbox WHERE event_type = $1 AND kafka_key = $2",
                &[&topics::CREATING_USER_RESPONSE, &account.to_string()],
            )
            .await
                == 1
        },
    )
    .await;
    assert_eq!(
        app.count("SELECT count(*) FROM profiles WHERE id = $1", &[&account])
            .await,
        1
    );
    assert_eq!(app.env.dead_letters().await, 0, "nothing dead-lettered");
}
