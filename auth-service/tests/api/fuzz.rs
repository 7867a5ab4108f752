//! Property tests of everything auth-service decodes (issue #14 item 15): the
//! `creating.user.response` event, the register, login, refresh and logout bodies,
//! and the registrant's `X-Poll-Token`. Arbitrary input is never a panic nor a 500:
//! an event is its payload or a permanent failure (the dead-letter topic), a body a
//! 4xx problem+json with its documented code.
//!
//! Valid-looking registrations and logins cost an argon2 run each, so those
//! properties run fewer cases.

use auth_service::domain::registration::{Email, FullName, Password, Phone};
use auth_service::events::payloads::CreatingUserResponse;
use comanda_outbox::inbox::decode;
use comanda_outbox::{Envelope, HandlerError};
use comanda_testkit::arbitrary::{
    bytes, config, documented_statuses, json, near_miss, run_async, Answer,
};
use proptest::prelude::*;
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{Stack, PASSWORD};

fn creating_user_response() -> Value {
    json!({"account_id": Uuid::now_v7(), "result": "exists", "reason": "taken"})
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn any_registration_answer_data_is_an_answer_or_a_permanent_failure(
        data in prop_oneof![json(), near_miss(creating_user_response())]
    ) {
        let event = Envelope::new("creating.user.response", 1, "user-service", "1", data);
        let decoded = decode::<CreatingUserResponse>(&event);
        prop_assert!(
            matches!(decoded, Ok(_) | Err(HandlerError::Permanent(_))),
            "not a permanent failure"
        );
    }

    #[test]
    fn the_registration_field_parsers_accept_or_refuse_any_text(text in any::<String>()) {
        let _ = Email::parse(&text);
        let _ = Password::parse(&text);
        let _ = FullName::parse(&text);
        let _ = Phone::parse(&text);
    }
}

/// `POST path` with `body` as the raw request body.
async fn post(stack: &Stack, path: &str, body: Vec<u8>) -> Answer {
    let res = stack
        .auth
        .client
        .post(format!("{}{path}", stack.auth.address))
        .header(CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .expect("request to auth-service");
    Answer::read(res).await
}

/// Every body route with a valid body and the codes it may refuse one with.
fn routes(email: &str) -> [(&'static str, Value, &'static [&'static str], u32); 4] {
    [
        (
            "/api/v1/auth/register",
            json!({"email": email, "password": PASSWORD, "full_name": "Ann Lee",
                   "phone": "+34 600 123 456"}),
            &["validation_failed", "invalid_json", "email_taken"],
            48,
        ),
        (
            "/api/v1/auth/login",
            json!({"email": email, "password": PASSWORD}),
            &["invalid_credentials", "invalid_json"],
            48,
        ),
        (
            "/api/v1/auth/refresh",
            json!({"refresh_token": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}),
            &["invalid_refresh_token", "invalid_json"],
            96,
        ),
        (
            "/api/v1/auth/logout",
            json!({"refresh_token": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}),
            &["invalid_json"],
            96,
        ),
    ]
}

#[test]
fn arbitrary_auth_bodies_are_served_or_a_documented_4xx() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let stack = runtime.block_on(Stack::auth_only());
    let stack = &stack;
    for (path, valid, codes, cases) in routes("ann@example.com") {
        let (client, base) = (&stack.auth.client, &stack.auth.address);
        let statuses = &runtime.block_on(documented_statuses(client, base, "post", path));
        run_async(&runtime, 32, bytes(256), |body| async move {
            let answer = post(stack, path, body).await;
            answer.is_problem(400, "invalid_json")?;
            answer.is_documented(statuses, codes)
        });
        run_async(&runtime, cases, near_miss(valid), |body| async move {
            let body = serde_json::to_vec(&body).expect("JSON");
            post(stack, path, body).await.is_documented(statuses, codes)
        });
    }
}

/// Any header value HTTP can carry: visible ASCII, spaces, tabs and obs-text bytes.
fn header_value() -> impl Strategy<Value = HeaderValue> {
    prop::collection::vec(
        prop_oneof![Just(b' '), Just(b'\t'), 0x21u8..=0x7e, 0x80u8..=0xff],
        0..80,
    )
    .prop_filter_map("not a header value", |bytes| {
        HeaderValue::from_bytes(&bytes).ok()
    })
}

#[test]
fn an_arbitrary_poll_token_is_a_plain_404() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let stack = runtime.block_on(Stack::auth_only());
    let (id, _token) = runtime.block_on(stack.register("ann@example.com"));
    let stack = &stack;
    let url = format!("{}/api/v1/auth/accounts/{id}", stack.auth.address);
    let url = &url;
    let (client, base) = (&stack.auth.client, &stack.auth.address);
    let path = "/api/v1/auth/accounts/{id}";
    let statuses = &runtime.block_on(documented_statuses(client, base, "get", path));
    run_async(&runtime, 64, header_value(), |token| async move {
        let res = stack
            .auth
            .client
            .get(url)
            .header("X-Poll-Token", token)
            .send()
            .await
            .expect("request to auth-service");
        let answer = Answer::read(res).await;
        answer.is_problem(404, "not_found")?;
        answer.is_documented(statuses, &["not_found"])
    });
}
