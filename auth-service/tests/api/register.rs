//! `POST /api/v1/auth/register`: what is stored, and what is refused.

use serde_json::{json, Value};

use crate::helpers::{problem, Stack, PASSWORD};

#[tokio::test]
async fn a_registration_is_stored_pending_with_an_argon2id_hash_and_its_creating_user_event() {
    let stack = Stack::auth_only().await;
    let (id, _) = stack.register("  Ann@Example.com ").await;

    let db = stack.auth_db().await;
    let row = db
        .query_one(
            "SELECT email, password_hash, role, status FROM accounts WHERE id = $1",
            &[&id],
        )
        .await
        .expect("the account");
    assert_eq!(row.get::<_, String>(0), "ann@example.com");
    let hash: String = row.get(1);
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(PASSWORD));
    assert_eq!(row.get::<_, String>(2), "USER");
    assert_eq!(row.get::<_, String>(3), "PENDING");

    let event = db
        .query_one(
            "SELECT topic, kafka_key, payload FROM outbox WHERE kafka_key = $1",
            &[&id.to_string()],
        )
        .await
        .expect("one outbox event in the same commit");
    assert_eq!(event.get::<_, String>(0), stack.env.topic("creating.user"));
    let payload: Value = event.get(2);
    assert_eq!(payload["type"], "creating.user");
    assert_eq!(payload["source"], "auth-service");
    assert_eq!(
        payload["data"],
        json!({"account_id": id, "email": "ann@example.com", "full_name": "Ann Lee", "phone": "+34 600 123 456"})
    );
}

#[tokio::test]
async fn registering_a_taken_email_is_a_409_problem_and_stores_nothing_more() {
    let stack = Stack::auth_only().await;
    stack.register("ann@example.com").await;
    let res = stack
        .post(
            "/api/v1/auth/register",
            &json!({"email": "ANN@example.com", "password": "another long password", "full_name": "Imposter"}),
        )
        .await;
    assert_eq!(problem(res).await, (409, "email_taken".to_owned()));
    let db = stack.auth_db().await;
    let accounts: i64 = db
        .query_one("SELECT count(*) FROM accounts WHERE role = 'USER'", &[])
        .await
        .expect("count")
        .get(0);
    let events: i64 = db
        .query_one("SELECT count(*) FROM outbox", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!((accounts, events), (1, 1));
}

#[tokio::test]
async fn invalid_registrations_are_4xx_problems_and_store_nothing() {
    let stack = Stack::auth_only().await;
    let url = format!("{}/api/v1/auth/register", stack.auth.address);
    let post = || stack.auth.client.post(&url);
    let valid = |field: &str, value: Value| {
        let mut body =
            json!({"email": "ann@example.com", "password": PASSWORD, "full_name": "Ann"});
        body[field] = value;
        body
    };
    let cases = [
        (
            post().json(&valid("email", json!("not-an-email"))),
            400,
            "validation_failed",
        ),
        (
            post().json(&valid("password", json!("short"))),
            400,
            "validation_failed",
        ),
        (
            post().json(&valid("full_name", json!(" "))),
            400,
            "validation_failed",
        ),
        (
            post().json(&valid("phone", json!("call me maybe"))),
            400,
            "validation_failed",
        ),
        (
            post().json(&json!({"email": "ann@example.com", "password": PASSWORD})),
            400,
            "invalid_json",
        ),
        (post().json(&valid("email", json!(42))), 400, "invalid_json"),
        (
            post()
                .header("content-type", "application/json")
                .body("{\"email\": "),
            400,
            "invalid_json",
        ),
        (
            post().json(&valid("full_name", json!("x".repeat(100 * 1024)))),
            413,
            "payload_too_large",
        ),
        (
            post().body("email=ann@example.com"),
            415,
            "unsupported_media_type",
        ),
    ];
    for (request, status, code) in cases {
        let res = request.send().await.expect("POST");
        assert_eq!(problem(res).await, (status, code.to_owned()));
    }
    let db = stack.auth_db().await;
    let stored: i64 = db
        .query_one(
            "SELECT (SELECT count(*) FROM accounts WHERE role = 'USER') + (SELECT count(*) FROM outbox)",
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(stored, 0);
}

#[tokio::test]
async fn an_email_whose_accounts_were_all_rejected_registers_again_and_signs_in_with_the_new_one() {
    let stack = Stack::auth_only().await;
    let (first, _) = stack.register("ann@example.com").await;
    let db = stack.auth_db().await;
    // Rejected (user-service refused it, or nobody answered in time).
    db.execute(
        "UPDATE accounts SET status = 'REJECTED', rejection_reason = 'timeout' WHERE id = $1",
        &[&first],
    )
    .await
    .expect("reject");

    let (second, _) = stack.register("Ann@example.com").await;
    assert_ne!(second, first);
    // Only one account per email may be PENDING or ACTIVE at a time.
    let res = stack
        .post(
            "/api/v1/auth/register",
            &json!({"email": "ann@example.com", "password": PASSWORD, "full_name": "Ann"}),
        )
        .await;
    assert_eq!(problem(res).await, (409, "email_taken".to_owned()));
    db.execute(
        "UPDATE accounts SET status = 'ACTIVE' WHERE id = $1",
        &[&second],
    )
    .await
    .expect("activate");
    assert_eq!(stack.login("ann@example.com", PASSWORD).await.status(), 200);
    let statuses: Vec<String> = db
        .query(
            "SELECT status FROM accounts WHERE email = 'ann@example.com' ORDER BY created_at",
            &[],
        )
        .await
        .expect("accounts")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(statuses, ["REJECTED", "ACTIVE"]);
}

/// The document bounds the email as JSON Schema counts: 254 characters as sent, 64 before
/// the `@`. Counted in bytes, schemathesis' schema-valid address of non-ASCII letters was
/// a 400; counted after trimming, its schema-violating padded one was a 202.
#[tokio::test]
async fn an_email_of_254_characters_as_sent_is_accepted_however_many_bytes_they_take() {
    let stack = Stack::auth_only().await;
    // 64 + 1 + 181 + 8 = 254 characters, 499 bytes.
    let email = format!("{}@{}.example", "é".repeat(64), "ü".repeat(181));
    assert_eq!(email.chars().count(), 254);
    stack.register(&email).await;

    let longer = format!("{}@ü{}.example", "é".repeat(64), "ü".repeat(181));
    let padded = format!(" {email}");
    let local_too_long = format!("{}@{}.example", "é".repeat(65), "ü".repeat(10));
    for email in [longer, padded, local_too_long] {
        let res = stack
            .post(
                "/api/v1/auth/register",
                &json!({"email": email, "password": PASSWORD, "full_name": "Ann"}),
            )
            .await;
        assert_eq!(problem(res).await, (400, "validation_failed".to_owned()));
    }
}
