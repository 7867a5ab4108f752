//! Property tests of what the gateway decodes itself (issue #14 item 15): the request
//! path it routes, limits and authorizes on, and the headers it reads (Authorization,
//! X-Correlation-Id, X-Forwarded-For, X-Request-Id). Bodies it only forwards; the
//! services' own property tests cover those.
//!
//! Any input is answered without a panic or a 500: forwarded, or refused with a
//! documented problem (400 `invalid_path`, 401 `unauthorized` / `invalid_token`, 404
//! `not_found`, 429 `rate_limited`).

use actix_web::http::Method;
use comanda_testkit::arbitrary::{config, run_async, Answer};
use gateway::routing::{normalize, rate_limited, service_for};
use proptest::prelude::*;
use reqwest::header::HeaderValue;

use crate::helpers::{gateway_before_one, valid_token};

/// A path under the auth prefix spelled with escapes: letters, percent signs, escapes
/// of unreserved and reserved bytes, slashes and non-ASCII.
fn spelled_path() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-z]{1,6}",
        Just("%".to_owned()),
        any::<u8>().prop_map(|b| format!("%{b:02X}")),
        any::<u8>().prop_map(|b| format!("%{b:02x}")),
        // An escaped hex digit next to a `%` or a hex digit spells an escape again.
        prop::sample::select(b"0123456789abcdefABCDEF".to_vec()).prop_map(|b| format!("%{b:02X}")),
        prop::sample::select(vec!["0", "4", "6", "e", "E", "f"]).prop_map(str::to_owned),
        prop::sample::select(vec!["login", "register", "/", "%2F", "%25", "%%", "é"])
            .prop_map(str::to_owned),
    ];
    prop::collection::vec(piece, 0..8)
        .prop_map(|pieces| format!("/api/v1/auth/{}", pieces.concat()))
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn normalizing_any_path_never_panics_nor_lengthens_it(path in any::<String>()) {
        let normalized = normalize(&path);
        // Escapes become one character, and nothing else changes.
        prop_assert!(normalized.len() <= path.len());
        let _ = service_for(&normalized);
    }

    /// A service decodes the unreserved escapes of the path the gateway forwards
    /// once more. If that changed it, the gateway would have decided (route, rate
    /// limit, token) on a path the service does not run.
    #[test]
    fn the_path_a_service_decodes_is_the_path_the_gateway_decided_on(path in spelled_path()) {
        let forwarded = normalize(&path).into_owned();
        let run = normalize(&forwarded).into_owned();
        prop_assert_eq!(&run, &forwarded);
        prop_assert_eq!(rate_limited(&Method::POST, &run), rate_limited(&Method::POST, &forwarded));
    }
}

/// Codes the gateway answers a refused request with, before or instead of forwarding.
const EDGE_CODES: &[&str] = &[
    "invalid_path",
    "not_found",
    "unauthorized",
    "invalid_token",
    "rate_limited",
];

#[test]
fn arbitrary_spellings_of_auth_paths_are_forwarded_or_refused_as_documented() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let _entered = runtime.enter();
    let (gateway, _auth) = gateway_before_one("auth", |_| {});
    let (gateway, token) = (&gateway, &valid_token());
    run_async(&runtime, 128, spelled_path(), |path| async move {
        let res = gateway
            .client
            .post(gateway.url(&path))
            .bearer_auth(token)
            .body("{}")
            .send()
            .await
            .expect("request to the gateway");
        Answer::read(res).await.is_success_or_documented(EDGE_CODES)
    });
}

/// Any header value HTTP can carry: visible ASCII, spaces, tabs and obs-text bytes.
fn header_value() -> impl Strategy<Value = HeaderValue> {
    let byte = prop_oneof![Just(b' '), Just(b'\t'), 0x21u8..=0x7e, 0x80u8..=0xff];
    prop_oneof![
        "Bearer [!-~]{0,60}".prop_map(String::into_bytes),
        "[0-9a-f:., ]{0,60}".prop_map(String::into_bytes),
        prop::collection::vec(byte, 0..160),
    ]
    .prop_filter_map("not a header value", |bytes| {
        HeaderValue::from_bytes(&bytes).ok()
    })
}

#[test]
fn arbitrary_edge_headers_are_forwarded_or_a_401_never_a_server_error() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let _entered = runtime.enter();
    let (gateway, _users) = gateway_before_one("user", |_| {});
    let (gateway, token) = (&gateway, &valid_token());
    let headers = (
        proptest::option::of(header_value()),
        header_value(),
        header_value(),
        header_value(),
    );
    run_async(
        &runtime,
        128,
        headers,
        |(auth, correlation, forwarded, request)| async move {
            let res = gateway
                .client
                .get(gateway.url("/api/v1/users/me"))
                .header(
                    "authorization",
                    auth.unwrap_or_else(|| {
                        HeaderValue::from_str(&format!("Bearer {token}")).expect("header")
                    }),
                )
                .header("x-correlation-id", correlation)
                .header("x-forwarded-for", forwarded)
                .header("x-request-id", request)
                .send()
                .await
                .expect("request to the gateway");
            let answer = Answer::read(res).await;
            answer.is_success_or_documented(&["unauthorized", "invalid_token"])
        },
    );
}

#[tokio::test]
async fn login_spelled_with_an_escaped_escape_is_still_rate_limited() {
    let (gateway, auth) = gateway_before_one("auth", |settings| {
        settings.rate_limit.per_minute = 1;
        settings.rate_limit.burst = 1;
    });
    let token = valid_token();
    let mut answers = Vec::new();
    for _ in 0..2 {
        let res = gateway
            .client
            .post(gateway.url("/api/v1/auth/logi%%36e"))
            .bearer_auth(&token)
            .body("{}")
            .send()
            .await
            .expect("request to the gateway");
        let status = res.status().as_u16();
        let echo: Option<serde_json::Value> = res.json().await.ok();
        answers.push((status, echo.map(|e| e["path"].clone())));
    }
    // The first reached auth-service as a path its router decodes to `login`
    // (see login_spelled_with_percent_encoded_letters_is_still_rate_limited).
    assert_eq!(answers[0].0, 200, "{answers:?}");
    assert_eq!(
        answers[1].0, 429,
        "a second login in the burst: {answers:?}"
    );
    assert_eq!(auth.requests(), 1);
}
