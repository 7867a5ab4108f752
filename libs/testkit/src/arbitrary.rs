//! Strategies for property tests of decoders: arbitrary bytes, arbitrary JSON, and
//! JSON that is *almost* a valid body (one field dropped, replaced or added).
//!
//! Random JSON rarely has the right field names, so on its own it only exercises
//! the "missing field" branch of a decoder. [`near_miss`] starts from a valid value
//! and breaks it in one place, which reaches every field's own parser.
//!
//! For a running service: [`run_async`] drives a property on the service's runtime,
//! [`Answer`] judges a response (never a 5xx; a refusal is problem+json with a
//! documented code) and [`documented_statuses`] reads what the operation's OpenAPI
//! document promises.

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, Value};

/// Property-test settings for a suite that must stay fast: `cases` cases, no
/// regression files written into the source tree.
pub fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// Up to `max` arbitrary bytes: mostly not UTF-8, let alone JSON.
pub fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..=max)
}

/// Text that looks like JSON but mostly is not: JSON punctuation, quotes, escapes,
/// digits, letters and control characters in any order.
pub fn json_like_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            prop::sample::select(vec![
                "{",
                "}",
                "[",
                "]",
                ":",
                ",",
                "\"",
                "\\",
                "\\u",
                "\\u0000",
                "null",
                "true",
                "false",
                "-",
                "0",
                "1e999",
                "-9223372036854775809",
                "1.5",
                " ",
                "\n",
            ])
            .prop_map(str::to_owned),
            "[a-z_]{1,8}",
            any::<char>().prop_map(String::from),
        ],
        0..24,
    )
    .prop_map(|parts| parts.concat())
}

/// A JSON scalar, with the edges decoders get wrong: huge and negative numbers,
/// floats, empty strings, control characters and non-ASCII text.
pub fn json_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        prop::num::f64::NORMAL.prop_map(Value::from),
        prop::sample::select(vec![
            0i64,
            -1,
            1,
            i64::from(i32::MAX),
            i64::from(i32::MAX) + 1,
            i64::from(i32::MIN),
            i64::MAX,
            i64::MIN,
        ])
        .prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        "[\\x00-\\x1f\\x7f\u{80}-\u{9f}a-z0-9 @.-]{0,12}".prop_map(Value::from),
        Just(Value::from("00000000-0000-0000-0000-000000000000")),
        Just(Value::from(uuid::Uuid::now_v7().to_string())),
    ]
}

/// Any JSON value, nested a few levels deep.
pub fn json() -> impl Strategy<Value = Value> {
    json_scalar().prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("[a-z_]{0,12}", inner), 0..6)
                .prop_map(|fields| Value::Object(fields.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A query string over `keys` (and a few unknown ones): numbers at the edges, text
/// with every byte percent-encoded (control characters, invalid UTF-8), raw
/// punctuation, repeated and valueless keys.
pub fn query_string(keys: &[&'static str]) -> impl Strategy<Value = String> {
    let mut names: Vec<&'static str> = keys.to_vec();
    names.extend(["", "x", "page[]"]);
    let value = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        prop::sample::select(vec![
            "0",
            "-1",
            "1",
            "9223372036854775808",
            "1e3",
            "1.5",
            "",
            "%",
            "%zz",
            "%00",
            "+",
            "null",
            "true",
        ])
        .prop_map(str::to_owned),
        prop::collection::vec(any::<u8>(), 0..12)
            .prop_map(|bytes| bytes.iter().map(|b| format!("%{b:02X}")).collect()),
        "[a-zA-Z0-9 ._~!$'()*,;:@/?-]{0,12}",
    ];
    let pair =
        (prop::sample::select(names), proptest::option::of(value)).prop_map(|(key, value)| {
            match value {
                Some(value) => format!("{key}={value}"),
                None => key.to_owned(),
            }
        });
    prop::collection::vec(pair, 0..5).prop_map(|pairs| pairs.join("&"))
}

/// One path segment where a UUID is expected: UUIDs in every spelling, almost-UUIDs,
/// and any bytes percent-encoded.
pub fn path_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u128>().prop_map(|n| uuid::Uuid::from_u128(n).to_string()),
        any::<u128>().prop_map(|n| uuid::Uuid::from_u128(n).simple().to_string()),
        any::<u128>().prop_map(|n| format!("{{{}}}", uuid::Uuid::from_u128(n))),
        "[0-9a-fA-FgG-]{1,40}",
        prop::collection::vec(any::<u8>(), 1..40)
            .prop_map(|bytes| bytes.iter().map(|b| format!("%{b:02X}")).collect()),
    ]
}

/// `valid` broken in one place: a field dropped, a field's value replaced by another
/// of the same kind (text with control characters or of odd lengths, a number at an
/// edge: this is what reaches a body's own validation) or by any JSON (also inside
/// nested objects and arrays), an unknown field added, or the whole value replaced.
pub fn near_miss(valid: Value) -> impl Strategy<Value = Value> {
    let paths = leaf_paths(&valid);
    let count = paths.len().max(1);
    let kinds = (edge_text(), edge_number(), any::<bool>());
    (0..count, 0..6u8, json(), "[a-z_]{1,12}", kinds).prop_map(
        move |(at, how, any, name, (text, number, flag))| {
            let mut value = valid.clone();
            match (how, paths.get(at)) {
                (0, Some(path)) => remove(&mut value, path),
                (1..=3, Some(path)) => {
                    if let Some(slot) = value.pointer_mut(path) {
                        *slot = match slot {
                            Value::String(_) => Value::from(text),
                            Value::Number(_) => number,
                            Value::Bool(_) => Value::from(flag),
                            _ => any,
                        };
                    }
                }
                (4, Some(path)) => {
                    if let Some(slot) = value.pointer_mut(path) {
                        *slot = any;
                    }
                }
                (5, _) => {
                    if let Value::Object(map) = &mut value {
                        map.insert(name, any);
                    } else {
                        value = any;
                    }
                }
                _ => value = any,
            }
            value
        },
    )
}

/// Text a field's validation must judge: empty, blank, long, with control
/// characters, non-ASCII, or anything at all.
pub fn edge_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("   ".to_owned()),
        "[a-zA-Z0-9 @.+-]{1,40}",
        "[a-z]{200,300}",
        "[a-z]{0,4}[\\x00-\\x1f\\x7f\u{80}-\u{9f}][a-z]{0,4}",
        "[\u{a0}-\u{10ffff}]{1,8}",
        any::<String>(),
    ]
}

/// A number at an edge of the usual bounds: signs, i32 and i64 limits, the
/// catalogue's 10^9, the order's 1,000 units and 50 lines, a fraction.
pub fn edge_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(vec![
            0i64,
            -1,
            1,
            50,
            51,
            1_000,
            1_001,
            1_000_000_000,
            1_000_000_001,
            i64::from(i32::MAX),
            i64::from(i32::MAX) + 1,
            i64::from(i32::MIN),
            i64::MAX,
            i64::MIN,
        ])
        .prop_map(Value::from),
        Just(Value::from(u64::MAX)),
        Just(Value::from(1.5)),
        any::<i64>().prop_map(Value::from),
    ]
}

/// The JSON pointers of every field and array element of `value`, depth first.
fn leaf_paths(value: &Value) -> Vec<String> {
    fn walk(value: &Value, here: &str, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let path = format!("{here}/{key}");
                    out.push(path.clone());
                    walk(child, &path, out);
                }
            }
            Value::Array(items) => {
                for (index, child) in items.iter().enumerate() {
                    let path = format!("{here}/{index}");
                    out.push(path.clone());
                    walk(child, &path, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, "", &mut out);
    out
}

/// Removes the field or element at `path` (a pointer from [`leaf_paths`]).
fn remove(value: &mut Value, path: &str) {
    let Some((parent, last)) = path.rsplit_once('/') else {
        return;
    };
    match value.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.remove(last);
        }
        Some(Value::Array(items)) => {
            if let Ok(index) = last.parse::<usize>() {
                if index < items.len() {
                    items.remove(index);
                }
            }
        }
        _ => {}
    }
}

/// Runs `test` on `cases` values of `strategy`, each on `runtime` (the runtime the
/// service under test was spawned on); panics with the shrunk failing value.
pub fn run_async<S, F, Fut>(runtime: &tokio::runtime::Runtime, cases: u32, strategy: S, test: F)
where
    S: Strategy,
    S::Value: std::fmt::Debug,
    F: Fn(S::Value) -> Fut,
    Fut: std::future::Future<Output = Result<(), TestCaseError>>,
{
    let mut runner = proptest::test_runner::TestRunner::new(config(cases));
    if let Err(failure) = runner.run(&strategy, |value| runtime.block_on(test(value))) {
        panic!("{failure}");
    }
}

/// An HTTP answer, reduced to what the properties judge.
#[derive(Debug)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The `Content-Type`, empty when there is none.
    pub content_type: String,
    /// The `code` of a problem body, if the body is one.
    pub code: Option<String>,
}

impl Answer {
    /// Reads `response` whole.
    pub async fn read(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = response.bytes().await.unwrap_or_default();
        let code = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v.get("code").and_then(Value::as_str).map(str::to_owned));
        Self {
            status,
            content_type,
            code,
        }
    }

    /// Exactly a `status` problem+json with `code`.
    pub fn is_problem(&self, status: u16, code: &str) -> Result<(), TestCaseError> {
        prop_assert_eq!(self.status, status, "{:?}", self);
        prop_assert_eq!(&self.content_type, "application/problem+json");
        prop_assert_eq!(self.code.as_deref(), Some(code));
        Ok(())
    }

    /// [`Self::is_success_or_documented`], and the status is one the operation's
    /// OpenAPI document lists (see [`documented_statuses`]).
    pub fn is_documented(&self, statuses: &[u16], codes: &[&str]) -> Result<(), TestCaseError> {
        prop_assert!(
            statuses.contains(&self.status),
            "status {} is not in the OpenAPI document ({:?}): {:?}",
            self.status,
            statuses,
            self
        );
        self.is_success_or_documented(codes)
    }

    /// Never a server error; a refusal is problem+json with one of the `documented` codes.
    pub fn is_success_or_documented(&self, documented: &[&str]) -> Result<(), TestCaseError> {
        prop_assert!(self.status < 500, "server error: {:?}", self);
        if self.status >= 400 {
            prop_assert_eq!(&self.content_type, "application/problem+json", "{:?}", self);
            let code = self.code.as_deref().unwrap_or_default();
            prop_assert!(
                documented.contains(&code),
                "undocumented refusal {:?}, documented: {:?}",
                self,
                documented
            );
        }
        Ok(())
    }
}

/// The statuses the OpenAPI document served at `base/openapi.json` lists for
/// `method` (lower case) on `path` (as written there, e.g. `/api/v1/orders/{id}`).
pub async fn documented_statuses(
    client: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
) -> Vec<u16> {
    let doc: Value = client
        .get(format!("{base}/openapi.json"))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("GET /openapi.json")
        .json()
        .await
        .expect("an OpenAPI document");
    let responses = doc["paths"][path][method]["responses"]
        .as_object()
        .unwrap_or_else(|| panic!("{method} {path} is not in the OpenAPI document"));
    responses
        .keys()
        .filter_map(|status| status.parse().ok())
        .collect()
}
