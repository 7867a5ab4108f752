//! `GET /api/v1/auth/accounts/{id}`: registrant, owner and admins only; bad tokens 401.

use comanda_kit::auth::Role;
use comanda_testkit::tokens;
use secrecy::ExposeSecret;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{problem, Stack};

#[tokio::test]
async fn an_account_is_visible_to_its_registrant_owner_and_admins_and_a_404_to_others() {
    let stack = Stack::auth_only().await;
    let (id, poll_token) = stack.register("ann@example.com").await;
    let url = format!("{}/api/v1/auth/accounts/{id}", stack.auth.address);
    let get = || stack.auth.client.get(&url);

    let polled: Value = get()
        .header("x-poll-token", &poll_token)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("account");
    assert_eq!(polled["status"], "PENDING");
    assert_eq!(polled["email"], "ann@example.com");

    let owner = get()
        .bearer_auth(tokens::valid(id, &[Role::User]))
        .send()
        .await
        .expect("GET");
    assert_eq!(owner.status(), 200);

    let admin = &stack.auth_settings.admin;
    let session: Value = stack
        .login(&admin.email, admin.password.expose_secret())
        .await
        .json()
        .await
        .expect("admin session");
    let as_admin = get()
        .bearer_auth(session["access_token"].as_str().expect("token"))
        .send()
        .await
        .expect("GET");
    assert_eq!(as_admin.status(), 200);

    let stranger = tokens::valid(Uuid::now_v7(), &[Role::User]);
    for request in [
        get().bearer_auth(stranger),
        get().header("x-poll-token", "guessed"),
        get(),
    ] {
        let res = request.send().await.expect("GET");
        assert_eq!(problem(res).await, (404, "not_found".to_owned()));
    }
}

#[tokio::test]
async fn expired_tampered_foreign_and_unsigned_access_tokens_are_401() {
    let stack = Stack::auth_only().await;
    let (id, poll_token) = stack.register("ann@example.com").await;
    let url = format!("{}/api/v1/auth/accounts/{id}", stack.auth.address);
    for (what, token) in tokens::forged(id) {
        // Even with a valid poll token: a bad bearer token is never ignored.
        let res = stack
            .auth
            .client
            .get(&url)
            .bearer_auth(token)
            .header("x-poll-token", &poll_token)
            .send()
            .await
            .expect("GET");
        assert_eq!(
            problem(res).await,
            (401, "invalid_token".to_owned()),
            "{what}"
        );
    }
}

/// `GET` of account `id` with `poll_token` as `X-Poll-Token`.
async fn poll(stack: &Stack, id: Uuid, poll_token: &str) -> reqwest::Response {
    stack
        .auth
        .client
        .get(format!("{}/api/v1/auth/accounts/{id}", stack.auth.address))
        .header("x-poll-token", poll_token)
        .send()
        .await
        .expect("GET")
}

#[tokio::test]
async fn a_poll_token_expires_fifteen_minutes_after_the_registration() {
    let stack = Stack::auth_only().await;
    let (id, poll_token) = stack.register("ann@example.com").await;
    assert_eq!(poll(&stack, id, &poll_token).await.status(), 200);

    // Still PENDING (user-service is down), but registered 16 minutes ago.
    stack
        .auth_db()
        .await
        .execute(
            "UPDATE accounts SET created_at = created_at - interval '16 minutes' WHERE id = $1",
            &[&id],
        )
        .await
        .expect("back-dated");
    let res = poll(&stack, id, &poll_token).await;
    assert_eq!(problem(res).await, (401, "poll_token_expired".to_owned()));
    // A wrong token is still a plain 404: an expired answer proves the token.
    let res = poll(&stack, id, "guessed").await;
    assert_eq!(problem(res).await, (404, "not_found".to_owned()));
}

#[tokio::test]
async fn a_poll_token_shows_the_settled_account_once_then_expires() {
    let stack = Stack::auth_only().await;
    let (id, poll_token) = stack.register("ann@example.com").await;
    let pending: Value = poll(&stack, id, &poll_token)
        .await
        .json()
        .await
        .expect("account");
    assert_eq!(pending["status"], "PENDING");
    // Polling while PENDING spends nothing.
    assert_eq!(poll(&stack, id, &poll_token).await.status(), 200);

    stack
        .auth_db()
        .await
        .execute(
            "UPDATE accounts SET status = 'ACTIVE' WHERE id = $1",
            &[&id],
        )
        .await
        .expect("settled");
    let settled: Value = poll(&stack, id, &poll_token)
        .await
        .json()
        .await
        .expect("account");
    assert_eq!(
        settled["status"], "ACTIVE",
        "the settled account is shown once"
    );

    let res = poll(&stack, id, &poll_token).await;
    let content_type = res.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let body: Value = res.json().await.expect("problem");
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(
        (body["status"].as_u64(), body["code"].as_str()),
        (Some(401), Some("poll_token_expired"))
    );
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("log in"),
        "the detail says what to do instead: {body}"
    );
}
