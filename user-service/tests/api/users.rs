//! `/api/v1/users`: own profile, someone else's, the admin listing, bad input, bad tokens.

use comanda_kit::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{bad_tokens, spawn_app, token};

async fn problem_code(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json", "status {status}");
    let body: Value = res.json().await.expect("problem body");
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn users_read_and_update_their_own_profile() {
    let app = spawn_app().await;
    let id = app.seed_profile("ann@example.com", "Ann Lee").await;
    let ann = token(id, &[Role::User]);

    let me: Value = app
        .request(Method::GET, "/api/v1/users/me", &ann)
        .send()
        .await
        .expect("GET me")
        .json()
        .await
        .expect("profile");
    assert_eq!(me["id"], id.to_string());
    assert_eq!(me["email"], "ann@example.com");

    let res = app
        .request(Method::PUT, "/api/v1/users/me", &ann)
        .json(&json!({"full_name": "  Ann B. Lee ", "phone": "+34 600 000 111"}))
        .send()
        .await
        .expect("PUT me");
    assert_eq!(res.status(), 200);
    let row = app
        .db()
        .await
        .query_one(
            "SELECT full_name, phone FROM profiles WHERE id = $1",
            &[&id],
        )
        .await
        .expect("row");
    assert_eq!(row.get::<_, String>(0), "Ann B. Lee");
    assert_eq!(
        row.get::<_, Option<String>>(1).as_deref(),
        Some("+34 600 000 111")
    );

    // A user without a profile (e.g. the bootstrapped admin) gets a 404 problem.
    let stranger = token(Uuid::now_v7(), &[Role::User]);
    let res = app
        .request(Method::GET, "/api/v1/users/me", &stranger)
        .send()
        .await
        .expect("GET");
    assert_eq!(problem_code(res).await, (404, "not_found".to_owned()));
}

#[tokio::test]
async fn invalid_profile_updates_are_4xx_problems_and_change_nothing() {
    let app = spawn_app().await;
    let id = app.seed_profile("ann@example.com", "Ann Lee").await;
    let ann = token(id, &[Role::User]);
    let put = || app.request(Method::PUT, "/api/v1/users/me", &ann);
    let big = "x".repeat(100 * 1024);
    let cases = [
        (
            put().json(&json!({"full_name": "", "phone": null})),
            400,
            "validation_failed",
        ),
        (
            put().json(&json!({"full_name": "Ann", "phone": "call me"})),
            400,
            "validation_failed",
        ),
        (
            put().json(&json!({"phone": "600123456"})),
            400,
            "invalid_json",
        ),
        (
            put()
                .header("content-type", "application/json")
                .body("{\"full_name\":"),
            400,
            "invalid_json",
        ),
        (
            put().json(&json!({"full_name": big})),
            413,
            "payload_too_large",
        ),
        (put().body("full_name=Ann"), 415, "unsupported_media_type"),
    ];
    for (request, status, code) in cases {
        let res = request.send().await.expect("PUT");
        assert_eq!(problem_code(res).await, (status, code.to_owned()));
    }
    let name: String = app
        .db()
        .await
        .query_one("SELECT full_name FROM profiles WHERE id = $1", &[&id])
        .await
        .expect("row")
        .get(0);
    assert_eq!(name, "Ann Lee");
}

#[tokio::test]
async fn someone_elses_profile_is_a_404_unless_the_caller_is_an_admin() {
    let app = spawn_app().await;
    let ann = app.seed_profile("ann@example.com", "Ann Lee").await;
    let bob = app.seed_profile("bob@example.com", "Bob Ray").await;
    let path = format!("/api/v1/users/{ann}");

    let as_ann = app
        .request(Method::GET, &path, &token(ann, &[Role::User]))
        .send()
        .await
        .expect("GET");
    assert_eq!(as_ann.status(), 200);
    let as_bob = app
        .request(Method::GET, &path, &token(bob, &[Role::User]))
        .send()
        .await
        .expect("GET");
    assert_eq!(problem_code(as_bob).await, (404, "not_found".to_owned()));
    let admin = token(Uuid::now_v7(), &[Role::Admin]);
    let as_admin: Value = app
        .request(Method::GET, &path, &admin)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(as_admin["email"], "ann@example.com");
    let bad_id = app
        .request(Method::GET, "/api/v1/users/not-a-uuid", &admin)
        .send()
        .await
        .expect("GET");
    assert_eq!(problem_code(bad_id).await, (400, "invalid_path".to_owned()));
}

#[tokio::test]
async fn admins_list_profiles_by_page_with_the_total_and_a_capped_size() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(app.seed_profile(&format!("u{n}@example.com"), "User").await);
    }
    let admin = token(Uuid::now_v7(), &[Role::Admin]);

    let page: Value = app
        .request(Method::GET, "/api/v1/users?page=2&size=2", &admin)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("page");
    assert_eq!(page["total"], 3);
    assert_eq!(page["page"], 2);
    assert_eq!(page["items"].as_array().expect("items").len(), 1);
    assert_eq!(page["items"][0]["id"], ids[2].to_string());

    let capped: Value = app
        .request(Method::GET, "/api/v1/users?size=100000", &admin)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("page");
    assert_eq!(capped["size"], 100);
    assert_eq!(capped["items"].as_array().expect("items").len(), 3);

    let bad = app
        .request(Method::GET, "/api/v1/users?page=two", &admin)
        .send()
        .await
        .expect("GET");
    assert_eq!(problem_code(bad).await, (400, "invalid_query".to_owned()));
    let user = token(ids[0], &[Role::User]);
    let forbidden = app
        .request(Method::GET, "/api/v1/users", &user)
        .send()
        .await
        .expect("GET");
    assert_eq!(problem_code(forbidden).await, (403, "forbidden".to_owned()));
}

#[tokio::test]
async fn expired_tampered_foreign_and_unsigned_tokens_are_401_on_protected_routes() {
    let app = spawn_app().await;
    let id = app.seed_profile("ann@example.com", "Ann Lee").await;
    for (what, bad) in bad_tokens(id) {
        for path in ["/api/v1/users/me", "/api/v1/users"] {
            let res = app
                .request(Method::GET, path, &bad)
                .send()
                .await
                .expect("GET");
            assert_eq!(res.status(), 401, "{what} token on {path}");
            assert_eq!(problem_code(res).await.1, "invalid_token", "{what}");
        }
    }
    let anonymous = app.app.get("/api/v1/users/me").await;
    assert_eq!(
        problem_code(anonymous).await,
        (401, "unauthorized".to_owned())
    );
}
