//! Correlation ids: one id follows a request through every service and event.
//!
//! A client may choose it (`X-Correlation-Id: req-001`): any 1–128 visible ASCII
//! characters are kept, echoed on the response, forwarded by the gateway, written to
//! every log line of the request and carried by every event of the flow (the
//! envelope's `correlation_id`). A request without one, or with one that is too long
//! or holds spaces or control characters, gets a fresh UUIDv7 (time-ordered, so ids
//! sort by creation). Handlers read it with the [`CorrelationId`] extractor and put it
//! on the events they write.
//!
//! Tracing needs a 128-bit trace id: [`CorrelationId::trace_id`] is the id itself
//! when it is a UUID, else derived from it (a hash, the same for the same id).

use std::future::{ready, Ready};

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

/// The header carrying the correlation id, in both directions.
pub const HEADER: &str = "x-correlation-id";
/// Longest correlation id kept; longer ones are replaced, so logs and events stay bounded.
pub const MAX_LEN: usize = 128;

/// A correlation id: 1–[`MAX_LEN`] visible ASCII characters (`!` to `~`).
///
/// Held inline (it is bounded), so it is `Copy` like the UUID it used to be.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CorrelationId {
    len: u8,
    bytes: [u8; MAX_LEN],
}

impl CorrelationId {
    /// A fresh id (a UUIDv7) for a flow nobody named.
    pub fn new() -> Self {
        Self::from_uuid(Uuid::now_v7())
    }

    /// `uuid`, hyphenated, as a correlation id.
    pub fn from_uuid(uuid: Uuid) -> Self {
        let mut buffer = Uuid::encode_buffer();
        Self::parse(uuid.hyphenated().encode_lower(&mut buffer))
            .unwrap_or_else(|| unreachable!("a hyphenated UUID is 36 visible ASCII characters"))
    }

    /// `text` if it is 1–[`MAX_LEN`] visible ASCII characters, else `None`.
    pub fn parse(text: &str) -> Option<Self> {
        let valid =
            (1..=MAX_LEN).contains(&text.len()) && text.bytes().all(|byte| byte.is_ascii_graphic());
        valid.then(|| {
            let mut bytes = [0; MAX_LEN];
            bytes[..text.len()].copy_from_slice(text.as_bytes());
            Self {
                len: text.len() as u8,
                bytes,
            }
        })
    }

    /// The id in `value` if it is acceptable (see [`Self::parse`]), else a fresh one.
    pub fn from_header(value: Option<&HeaderValue>) -> Self {
        value
            .and_then(|v| v.to_str().ok())
            .and_then(Self::parse)
            .unwrap_or_default()
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Only visible ASCII is ever stored (see `parse`).
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }

    /// The W3C trace id of the flow: the id itself when it is a UUID, else a UUIDv8
    /// made of the id's 128-bit FNV-1a hash. Deterministic, so every service and
    /// every event of the flow derive the same one; not a secret (a client could as
    /// well have sent that UUID), so a fast non-cryptographic hash will do.
    pub fn trace_id(&self) -> Uuid {
        let text = self.as_str();
        Uuid::try_parse(text).unwrap_or_else(|_| {
            const OFFSET_BASIS: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
            const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
            let hash = text.bytes().fold(OFFSET_BASIS, |hash, byte| {
                (hash ^ u128::from(byte)).wrapping_mul(PRIME)
            });
            uuid::Builder::from_custom_bytes(hash.to_be_bytes()).into_uuid()
        })
    }
}

impl Default for CorrelationId {
    /// A fresh id, as [`CorrelationId::new`].
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for CorrelationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for CorrelationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl From<Uuid> for CorrelationId {
    fn from(uuid: Uuid) -> Self {
        Self::from_uuid(uuid)
    }
}

impl Serialize for CorrelationId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CorrelationId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Self::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "a correlation id is 1-{MAX_LEN} visible ASCII characters"
            ))
        })
    }
}

impl FromRequest for CorrelationId {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Without the middleware (a bare test App) fall back to the header or a new id.
        let id = req
            .extensions()
            .get::<CorrelationId>()
            .copied()
            .unwrap_or_else(|| Self::from_header(req.headers().get(HEADER)));
        ready(Ok(id))
    }
}

/// Middleware: resolves the id, stores it in the request extensions, echoes it back.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = CorrelationId::from_header(req.headers().get(HEADER));
    req.extensions_mut().insert(id);
    let mut res = next.call(req).await?;
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        res.headers_mut()
            .insert(HeaderName::from_static(HEADER), value);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(value: &'static str) -> Option<HeaderValue> {
        Some(HeaderValue::from_static(value))
    }

    #[test]
    fn a_clients_own_id_of_visible_ascii_is_kept() {
        for id in [
            "req-001",
            "a",
            "0193abcd-0000-7000-8000-000000000001",
            "~!{}|",
        ] {
            assert_eq!(CorrelationId::from_header(header(id).as_ref()).as_str(), id);
        }
        let longest = "x".repeat(MAX_LEN);
        assert_eq!(
            CorrelationId::parse(&longest).map(|c| c.to_string()),
            Some(longest)
        );
    }

    #[test]
    fn a_missing_empty_too_long_or_unprintable_id_is_replaced_by_a_uuid_v7() {
        let too_long = HeaderValue::from_str(&"x".repeat(MAX_LEN + 1)).ok();
        for value in [
            None,
            header(""),
            header("a b"),
            header("tab\there"),
            too_long,
        ] {
            let id = CorrelationId::from_header(value.as_ref());
            let uuid = Uuid::parse_str(id.as_str()).expect("a uuid");
            assert_eq!(uuid.get_version_num(), 7, "{value:?}");
        }
        let non_ascii = HeaderValue::from_bytes("réq".as_bytes()).ok();
        let id = CorrelationId::from_header(non_ascii.as_ref());
        assert!(Uuid::parse_str(id.as_str()).is_ok(), "{id}");
    }

    #[test]
    fn the_trace_id_is_the_uuid_itself_or_derived_the_same_way_every_time() {
        let uuid = Uuid::now_v7();
        assert_eq!(CorrelationId::from_uuid(uuid).trace_id(), uuid);
        let client = CorrelationId::parse("req-001").expect("valid");
        let again = CorrelationId::parse("req-001").expect("valid");
        let other = CorrelationId::parse("req-002").expect("valid");
        assert_eq!(client.trace_id(), again.trace_id());
        assert_ne!(client.trace_id(), other.trace_id());
        assert_ne!(client.trace_id(), Uuid::nil());
        assert_eq!(client.trace_id().get_version_num(), 8);
    }

    #[test]
    fn it_travels_in_json_as_its_text_and_invalid_text_is_refused() {
        let id = CorrelationId::parse("req-001").expect("valid");
        let json = serde_json::to_value(id).expect("serialises");
        assert_eq!(json, "req-001");
        assert_eq!(serde_json::from_value::<CorrelationId>(json).ok(), Some(id));
        let uuid = Uuid::now_v7();
        let from_uuid: CorrelationId =
            serde_json::from_value(serde_json::json!(uuid)).expect("a UUID is an id");
        assert_eq!(from_uuid.trace_id(), uuid);
        for bad in ["", "a b", &"x".repeat(MAX_LEN + 1)] {
            assert!(
                serde_json::from_value::<CorrelationId>(bad.into()).is_err(),
                "{bad:?}"
            );
        }
    }
}
