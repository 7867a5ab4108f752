//! Property tests of everything user-service decodes (issue #14 item 15): the
//! `creating.user` events and the profile body and listing query. Arbitrary input is
//! never a panic nor a 500: an event is its payload or a permanent failure (the
//! dead-letter topic), a body or query a 400 problem+json with its documented code.

use comanda_kit::auth::Role;
use comanda_outbox::inbox::decode;
use comanda_outbox::{Envelope, HandlerError};
use comanda_testkit::arbitrary::{
    bytes, config, documented_statuses, json, near_miss, path_segment, query_string, run_async,
    Answer,
};
use proptest::prelude::*;
use reqwest::header::CONTENT_TYPE;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use user_service::domain::profile::{Email, FullName, Phone};
use user_service::events::payloads::{CreatingUser, CreatingUserCancelled};
use uuid::Uuid;

use crate::helpers::{spawn_app, token};

/// `data` decodes as `T` or is a permanent failure (dead-lettered, never retried).
fn decodes_or_is_permanent<T: DeserializeOwned>(data: Value) -> Result<(), TestCaseError> {
    let event = Envelope::new("creating.user", 1, "auth-service", "1", data);
    let decoded = decode::<T>(&event);
    prop_assert!(
        matches!(decoded, Ok(_) | Err(HandlerError::Permanent(_))),
        "not a permanent failure"
    );
    Ok(())
}

fn creating_user() -> Value {
    json!({
        "account_id": Uuid::now_v7(), "email": "ann@example.com",
        "full_name": "Ann Smith", "phone": "+34 600 000 000"
    })
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn any_creating_user_data_is_a_request_or_a_permanent_failure(
        data in prop_oneof![json(), near_miss(creating_user())]
    ) {
        decodes_or_is_permanent::<CreatingUser>(data.clone())?;
        decodes_or_is_permanent::<CreatingUserCancelled>(data)?;
    }

    /// A decoded request's fields go through these parsers; a refusal is answered
    /// `error`, so they must refuse, not panic, whatever auth-service sent.
    #[test]
    fn the_profile_field_parsers_accept_or_refuse_any_text(text in any::<String>()) {
        let _ = Email::parse(&text);
        let _ = FullName::parse(&text);
        let _ = Phone::parse(&text);
        let _ = Phone::parse_optional(Some(&text));
    }
}

#[test]
fn arbitrary_profile_bodies_are_saved_or_a_documented_400() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let app = runtime.block_on(spawn_app());
    let id = runtime.block_on(app.seed_profile("ann@example.com", "Ann Smith"));
    let ann = token(id, &[Role::User]);
    let put = &|body: Vec<u8>| {
        app.request(Method::PUT, "/api/v1/users/me", &ann)
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
    };
    let (client, base) = (&app.app.client, app.app.address.as_str());
    let statuses = &runtime.block_on(documented_statuses(client, base, "put", "/api/v1/users/me"));
    run_async(&runtime, 32, bytes(256), |body| async move {
        let res = put(body).await.expect("request");
        let answer = Answer::read(res).await;
        answer.is_problem(400, "invalid_json")?;
        answer.is_documented(statuses, &["invalid_json"])
    });
    let valid = json!({"full_name": "Ann Smith", "phone": "+34 600 000 000"});
    run_async(&runtime, 96, near_miss(valid), |body| async move {
        let res = put(serde_json::to_vec(&body).expect("JSON"))
            .await
            .expect("request");
        Answer::read(res)
            .await
            .is_documented(statuses, &["validation_failed", "invalid_json"])
    });
}

#[test]
fn arbitrary_listing_queries_and_ids_are_a_page_or_a_documented_4xx() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let app = runtime.block_on(spawn_app());
    let admin = token(Uuid::now_v7(), &[Role::Admin]);
    let (client, base) = (&app.app.client, app.app.address.as_str());
    let list = &runtime.block_on(documented_statuses(client, base, "get", "/api/v1/users"));
    let one = &runtime.block_on(documented_statuses(
        client,
        base,
        "get",
        "/api/v1/users/{id}",
    ));
    run_async(&runtime, 64, query_string(&["page", "size"]), |query| {
        let req = app.request(Method::GET, &format!("/api/v1/users?{query}"), &admin);
        async move {
            let answer = Answer::read(req.send().await.expect("request")).await;
            prop_assert!(answer.status == 200 || answer.status == 400, "{answer:?}");
            answer.is_documented(list, &["invalid_query"])
        }
    });
    run_async(&runtime, 64, path_segment(), |id| {
        let req = app.request(Method::GET, &format!("/api/v1/users/{id}"), &admin);
        async move {
            let answer = Answer::read(req.send().await.expect("request")).await;
            prop_assert!(answer.status >= 400, "no profile exists: {answer:?}");
            answer.is_documented(one, &["invalid_path", "not_found"])
        }
    });
}
