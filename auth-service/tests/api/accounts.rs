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
