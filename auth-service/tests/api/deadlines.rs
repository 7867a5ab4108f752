//! No registration stays PENDING: an unanswered `creating.user` is sent again, and a
//! registration nobody answers is REJECTED `timeout`, which frees its email.

use comanda_outbox::deadline::SagaSettings;
use comanda_testkit::eventually;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{Stack, FLOW, PASSWORD};

/// Short waits, so a test sees every attempt within a second or two.
fn quick(max_attempts: u32) -> SagaSettings {
    SagaSettings {
        request_timeout_ms: 500,
        max_attempts,
        poll_interval_ms: 50,
    }
}

/// `(type, event id, correlation id)` of auth-service's outbox rows about `account`.
async fn events(stack: &Stack, account: Uuid) -> Vec<(String, Uuid, Uuid)> {
    stack
        .auth_db()
        .await
        .query(
            "SELECT event_type, event_id, correlation_id::uuid FROM outbox WHERE kafka_key = $1 \
             ORDER BY id",
            &[&account.to_string()],
        )
        .await
        .expect("outbox rows")
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect()
}

#[tokio::test]
async fn a_registration_nobody_answers_is_sent_again_then_rejected_for_timeout_and_frees_its_email()
{
    let mut stack = Stack::auth_only_with(quick(3)).await;
    let (id, poll) = stack.register("ann@example.com").await;

    assert_eq!(stack.settled(id).await, "REJECTED");

    let res = stack
        .auth
        .client
        .get(format!("{}/api/v1/auth/accounts/{id}", stack.auth.address))
        .header("X-Poll-Token", &poll)
        .send()
        .await
        .expect("request");
    let account: Value = res.json().await.expect("account");
    assert_eq!(account["status"], "REJECTED");
    assert_eq!(account["rejection_reason"], "timeout");
    let sent = events(&stack, id).await;
    let types: Vec<&str> = sent.iter().map(|(t, _, _)| t.as_str()).collect();
    assert_eq!(
        types,
        [
            "creating.user",
            "creating.user",
            "creating.user",
            "creating.user.cancelled"
        ],
        "three attempts, then the withdrawal"
    );
    assert!(sent.windows(2).all(|w| w[0].1 != w[1].1), "new event ids");
    assert!(sent.iter().all(|e| e.2 == sent[0].2), "one flow");
    let deadlines: i64 = stack
        .auth_db()
        .await
        .query_one("SELECT count(*) FROM saga_deadlines", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(deadlines, 0);

    // user-service comes back and works through the abandoned requests: it answers
    // them (too late: the account stays REJECTED) and the withdrawal drops the profile.
    stack.start_user_service().await;
    eventually(FLOW, "user-service handled all four", || async {
        let handled: i64 = stack
            .user_db()
            .await
            .query_one("SELECT count(*) FROM processed_messages", &[])
            .await
            .expect("count")
            .get(0);
        handled == 4
    })
    .await;
    let profiles: i64 = stack
        .user_db()
        .await
        .query_one("SELECT count(*) FROM profiles", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(profiles, 0);
    assert_eq!(stack.status(id).await, "REJECTED");

    // The email is free: the same person registers again and gets in.
    let (again, _) = stack.register("ann@example.com").await;
    assert_ne!(again, id);
    assert_eq!(stack.settled(again).await, "ACTIVE");
    assert_eq!(stack.login("ann@example.com", PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn a_registration_whose_request_was_lost_is_sent_again_and_activated() {
    let mut stack = Stack::auth_only_with(quick(5)).await;
    // The first request is "lost": its row is born published, so the relay never
    // sends it, as if a broker restarted empty after the relay had sent it.
    stack
        .auth_db()
        .await
        .batch_execute(
            "CREATE FUNCTION test_lose_event() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN \
                 IF NEW.event_type = 'creating.user' AND NOT EXISTS (SELECT 1 FROM outbox o \
                     WHERE o.kafka_key = NEW.kafka_key) THEN \
                     NEW.published_at := now(); \
                 END IF; \
                 RETURN NEW; \
             END $$; \
             CREATE TRIGGER test_lose_event BEFORE INSERT ON outbox \
                 FOR EACH ROW EXECUTE FUNCTION test_lose_event();",
        )
        .await
        .expect("installs the losing trigger");
    stack.start_user_service().await;
    let (id, _) = stack.register("bob@example.com").await;

    assert_eq!(stack.settled(id).await, "ACTIVE");

    // Sent again at least once; how often depends on how fast the answer comes
    // against the short test timeout. Every send is a new event of the same flow.
    let sent = events(&stack, id).await;
    assert!(sent.len() >= 2, "{sent:?}");
    assert!(sent
        .iter()
        .all(|e| e.0 == "creating.user" && e.2 == sent[0].2));
    assert!(sent.windows(2).all(|w| w[0].1 != w[1].1));
    assert_eq!(stack.login("bob@example.com", PASSWORD).await.status(), 200);
}
