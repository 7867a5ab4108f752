//! Login, refresh rotation with reuse detection, and logout.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{problem, Stack, PASSWORD};

/// Registers `email` and marks it ACTIVE directly, as user-service's answer would.
async fn active_account(stack: &Stack, email: &str) -> Uuid {
    let (id, _) = stack.register(email).await;
    stack
        .auth_db()
        .await
        .execute(
            "UPDATE accounts SET status = 'ACTIVE' WHERE id = $1",
            &[&id],
        )
        .await
        .expect("activate");
    id
}

async fn refresh(stack: &Stack, token: &str) -> reqwest::Response {
    stack
        .post("/api/v1/auth/refresh", &json!({"refresh_token": token}))
        .await
}

async fn session(res: reqwest::Response) -> (String, String) {
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("session");
    assert_eq!(body["token_type"], "Bearer");
    (
        body["access_token"].as_str().expect("access").to_owned(),
        body["refresh_token"].as_str().expect("refresh").to_owned(),
    )
}

/// `(used, revoked)` counts of the account's refresh tokens.
async fn token_rows(stack: &Stack, account: Uuid) -> (i64, i64, i64) {
    let row = stack
        .auth_db()
        .await
        .query_one(
            "SELECT count(*), count(used_at), count(revoked_at) FROM refresh_tokens WHERE account_id = $1",
            &[&account],
        )
        .await
        .expect("counts");
    (row.get(0), row.get(1), row.get(2))
}

#[tokio::test]
async fn login_refuses_unknown_emails_wrong_passwords_and_pending_accounts_alike() {
    let stack = Stack::auth_only().await;
    let pending = stack.register("pending@example.com").await.0;
    let active = active_account(&stack, "ann@example.com").await;
    let attempts = [
        ("nobody@example.com", PASSWORD),
        ("ann@example.com", "wrong password here"),
        ("pending@example.com", PASSWORD),
        ("not an email", PASSWORD),
    ];
    let mut details = Vec::new();
    for (email, password) in attempts {
        let res = stack.login(email, password).await;
        assert_eq!(res.status(), 401, "{email}");
        let body: Value = res.json().await.expect("problem");
        assert_eq!(body["code"], "invalid_credentials");
        details.push(body["detail"].clone());
    }
    details.dedup();
    assert_eq!(
        details.len(),
        1,
        "one message for every failure: {details:?}"
    );
    assert_eq!(token_rows(&stack, pending).await, (0, 0, 0));
    assert_eq!(token_rows(&stack, active).await, (0, 0, 0));

    let (access, refresh) = session(stack.login(" ANN@example.com", PASSWORD).await).await;
    assert_eq!(access.split('.').count(), 3);
    assert!(!refresh.is_empty());
    assert_eq!(token_rows(&stack, active).await, (1, 0, 0));
}

#[tokio::test]
async fn refresh_rotates_the_token_and_reusing_an_old_one_revokes_the_family() {
    let stack = Stack::auth_only().await;
    let id = active_account(&stack, "ann@example.com").await;
    let (_, first) = session(stack.login("ann@example.com", PASSWORD).await).await;

    let (_, second) = session(refresh(&stack, &first).await).await;
    assert_ne!(first, second);
    assert_eq!(token_rows(&stack, id).await, (2, 1, 0));
    let (_, third) = session(refresh(&stack, &second).await).await;
    assert_eq!(token_rows(&stack, id).await, (3, 2, 0));

    // `first` was already rotated: someone replays a stolen copy.
    assert_eq!(
        problem(refresh(&stack, &first).await).await,
        (401, "invalid_refresh_token".to_owned())
    );
    assert_eq!(
        token_rows(&stack, id).await,
        (3, 2, 3),
        "the whole family is revoked"
    );
    // So the legitimate holder's current token is dead too.
    assert_eq!(
        problem(refresh(&stack, &third).await).await,
        (401, "invalid_refresh_token".to_owned())
    );

    // A new login starts a new, healthy family.
    let (_, fresh) = session(stack.login("ann@example.com", PASSWORD).await).await;
    session(refresh(&stack, &fresh).await).await;
    assert_eq!(
        problem(refresh(&stack, "made-up").await).await,
        (401, "invalid_refresh_token".to_owned())
    );
}

#[tokio::test]
async fn logout_revokes_the_refresh_token_family() {
    let stack = Stack::auth_only().await;
    let id = active_account(&stack, "ann@example.com").await;
    let (_, first) = session(stack.login("ann@example.com", PASSWORD).await).await;
    let (_, current) = session(refresh(&stack, &first).await).await;

    let res = stack
        .post("/api/v1/auth/logout", &json!({"refresh_token": current}))
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(token_rows(&stack, id).await, (2, 1, 2));
    assert_eq!(
        problem(refresh(&stack, &current).await).await,
        (401, "invalid_refresh_token".to_owned())
    );
    // Unknown tokens log out "successfully": the answer reveals nothing.
    let res = stack
        .post("/api/v1/auth/logout", &json!({"refresh_token": "made-up"}))
        .await;
    assert_eq!(res.status(), 204);
    let res = stack.post("/api/v1/auth/logout", &json!({})).await;
    assert_eq!(problem(res).await, (400, "invalid_json".to_owned()));
}
