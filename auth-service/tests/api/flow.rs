//! The registration flow through Kafka: auth-service → `creating.user` →
//! user-service → `creating.user.response` → auth-service, with real relays.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::{problem, Stack, PASSWORD};

#[tokio::test]
async fn a_registration_creates_the_profile_activates_the_account_and_allows_login() {
    let stack = Stack::new().await;
    let (id, poll_token) = stack.register("ann@example.com").await;

    assert_eq!(stack.settled(id).await, "ACTIVE");
    let profile = stack
        .user_db()
        .await
        .query_one(
            "SELECT email, full_name FROM profiles WHERE id = $1",
            &[&id],
        )
        .await
        .expect("a profile with the account's id");
    assert_eq!(profile.get::<_, String>(0), "ann@example.com");
    assert_eq!(profile.get::<_, String>(1), "Ann Lee");
    let polled: Value = stack
        .auth
        .client
        .get(format!("{}/api/v1/auth/accounts/{id}", stack.auth.address))
        .header("x-poll-token", poll_token)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("account");
    assert_eq!(polled["status"], "ACTIVE");

    let session: Value = stack
        .login("ann@example.com", PASSWORD)
        .await
        .json()
        .await
        .expect("session");
    let token = session["access_token"].as_str().expect("access token");
    // The token auth-service issued opens user-service.
    let user = stack.user.as_ref().expect("user-service");
    let me: Value = user
        .client
        .get(format!("{}/api/v1/users/me", user.address))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET me")
        .json()
        .await
        .expect("profile");
    assert_eq!(me["id"], id.to_string());
}

#[tokio::test]
async fn registering_an_email_user_service_already_has_is_rejected_and_login_refused() {
    let stack = Stack::new().await;
    stack
        .user_db()
        .await
        .execute(
            "INSERT INTO profiles (id, email, full_name) VALUES (gen_random_uuid(), 'ann@example.com', 'Ann Before')",
            &[],
        )
        .await
        .expect("seed profile");
    let (id, _) = stack.register("ann@example.com").await;

    assert_eq!(stack.settled(id).await, "REJECTED");
    let reason: Option<String> = stack
        .auth_db()
        .await
        .query_one(
            "SELECT rejection_reason FROM accounts WHERE id = $1",
            &[&id],
        )
        .await
        .expect("account")
        .get(0);
    assert!(reason.is_some_and(|r| r.contains("exists")));
    let profiles: i64 = stack
        .user_db()
        .await
        .query_one("SELECT count(*) FROM profiles", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(profiles, 1);
    let res = stack.login("ann@example.com", PASSWORD).await;
    assert_eq!(problem(res).await, (401, "invalid_credentials".to_owned()));
}

#[tokio::test]
async fn a_registration_made_while_user_service_is_down_completes_once_it_is_back() {
    let mut stack = Stack::auth_only().await;
    let (id, _) = stack.register("ann@example.com").await;

    // The event is published (the relay runs) but nobody consumes it.
    comanda_testkit::eventually(
        Duration::from_secs(10),
        "the event is published",
        || async {
            let published: i64 = stack
                .auth_db()
                .await
                .query_one(
                    "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL",
                    &[],
                )
                .await
                .expect("count")
                .get(0);
            published == 1
        },
    )
    .await;
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(stack.status(id).await, "PENDING");
    }
    let res = stack.login("ann@example.com", PASSWORD).await;
    assert_eq!(problem(res).await, (401, "invalid_credentials".to_owned()));

    stack.start_user_service().await;
    assert_eq!(stack.settled(id).await, "ACTIVE");
    assert_eq!(stack.login("ann@example.com", PASSWORD).await.status(), 200);
}

#[test]
fn each_service_decodes_the_registration_payloads_the_other_writes() {
    use auth_service::events::payloads as auth;
    use user_service::events::payloads as user;
    let request = auth::CreatingUser {
        account_id: uuid::Uuid::now_v7(),
        email: "ann@example.com".into(),
        full_name: "Ann Lee".into(),
        phone: None,
    };
    let decoded: user::CreatingUser =
        serde_json::from_value(serde_json::to_value(&request).expect("json")).expect("decodes");
    assert_eq!(decoded.account_id, request.account_id);
    for result in [
        user::CreationResult::Created,
        user::CreationResult::Exists,
        user::CreationResult::Error,
    ] {
        let answer = user::CreatingUserResponse {
            account_id: request.account_id,
            result,
            reason: None,
        };
        let decoded: auth::CreatingUserResponse =
            serde_json::from_value(serde_json::to_value(&answer).expect("json")).expect("decodes");
        assert_eq!(decoded.account_id, request.account_id);
    }
}
