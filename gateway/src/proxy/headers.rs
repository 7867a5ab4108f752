//! Headers across the edge: hop-by-hop ones stay behind, the ids and the client's
//! address go forward.
//!
//! Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection, not the message; a
//! proxy that forwarded `Connection: close` or `Transfer-Encoding` would corrupt the
//! next hop's framing. actix (http 0.2) and reqwest (http 1) use different header
//! types, so names and values are copied as bytes.

use actix_web::http::header::HeaderMap as ActixHeaders;
use actix_web::{HttpMessage as _, HttpRequest};
use comanda_kit::correlation::{self, CorrelationId};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::request_id::{self, RequestId};

/// Headers that belong to one connection and are never forwarded.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "proxy-authorization",
    "proxy-authenticate",
];

/// True for `name` (lower case) when it must not cross the gateway: hop-by-hop, any
/// `Proxy-*`, or named in the message's own `Connection` header.
fn is_hop_by_hop(name: &str, connection_tokens: &[String]) -> bool {
    HOP_BY_HOP.contains(&name)
        || name.starts_with("proxy-")
        || connection_tokens.iter().any(|token| token == name)
}

/// The header names listed in `Connection` values, lower case.
fn connection_tokens<'a>(values: impl Iterator<Item = &'a [u8]>) -> Vec<String> {
    values
        .filter_map(|value| std::str::from_utf8(value).ok())
        .flat_map(|value| value.split(','))
        .map(|token| token.trim().to_ascii_lowercase())
        .filter(|token| !token.is_empty())
        .collect()
}

/// The headers to send upstream for `req`: the client's end-to-end headers (the
/// `Authorization` header unchanged), the request and correlation ids, and
/// `X-Forwarded-*` describing the client.
pub fn to_upstream(req: &HttpRequest) -> HeaderMap {
    let incoming = req.headers();
    let tokens = connection_tokens(incoming.get_all("connection").map(|v| v.as_bytes()));
    let mut out = HeaderMap::with_capacity(incoming.len() + 5);
    for (name, value) in incoming {
        let name = name.as_str();
        // Host names the gateway; the client sets it for the upstream's address.
        // The gateway answered any `Expect: 100-continue` itself. Forwarded headers
        // describing this hop are rebuilt below.
        if is_hop_by_hop(name, &tokens)
            || ["host", "expect", "x-forwarded-proto", "x-forwarded-host"].contains(&name)
        {
            continue;
        }
        append(&mut out, name, value.as_bytes());
    }
    set_ids(req, &mut out);
    set_forwarded(req, &mut out);
    out
}

/// The ids resolved by the middleware, which replace whatever the client sent.
fn set_ids(req: &HttpRequest, out: &mut HeaderMap) {
    let extensions = req.extensions();
    if let Some(id) = extensions.get::<CorrelationId>() {
        insert(out, correlation::HEADER, id.to_string().as_bytes());
    }
    if let Some(RequestId(id)) = extensions.get::<RequestId>() {
        insert(out, request_id::HEADER, id.as_bytes());
    }
}

/// `X-Forwarded-For` (the client's address appended to any earlier proxies'),
/// `X-Forwarded-Proto` and `X-Forwarded-Host`.
fn set_forwarded(req: &HttpRequest, out: &mut HeaderMap) {
    if let Some(peer) = req.peer_addr() {
        let earlier = out
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let chain = match earlier {
            Some(earlier) => format!("{earlier}, {}", peer.ip()),
            None => peer.ip().to_string(),
        };
        insert(out, "x-forwarded-for", chain.as_bytes());
    }
    let proto: &[u8] = if req.app_config().secure() {
        b"https"
    } else {
        b"http"
    };
    insert(out, "x-forwarded-proto", proto);
    if let Some(host) = req.headers().get("host") {
        insert(out, "x-forwarded-host", host.as_bytes());
    }
}

/// The upstream response's end-to-end headers, as actix headers, without the
/// framing ones actix sets itself (`Content-Length`).
pub fn to_client(upstream: &HeaderMap) -> ActixHeaders {
    let tokens = connection_tokens(upstream.get_all("connection").iter().map(|v| v.as_bytes()));
    let mut out = ActixHeaders::with_capacity(upstream.len());
    for (name, value) in upstream {
        let name = name.as_str();
        if is_hop_by_hop(name, &tokens) || name == "content-length" {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            actix_web::http::header::HeaderName::from_bytes(name.as_bytes()),
            actix_web::http::header::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            out.append(name, value);
        }
    }
    out
}

fn append(out: &mut HeaderMap, name: &str, value: &[u8]) {
    if let (Ok(name), Ok(value)) = (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_bytes(value),
    ) {
        out.append(name, value);
    }
}

fn insert(out: &mut HeaderMap, name: &str, value: &[u8]) {
    if let (Ok(name), Ok(value)) = (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_bytes(value),
    ) {
        out.insert(name, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_and_those_named_in_connection_are_recognised() {
        let tokens = connection_tokens([b"close, X-Secret".as_slice()].into_iter());
        for name in [
            "connection",
            "keep-alive",
            "te",
            "trailer",
            "upgrade",
            "proxy-foo",
        ] {
            assert!(is_hop_by_hop(name, &tokens), "{name}");
        }
        assert!(is_hop_by_hop("transfer-encoding", &tokens));
        assert!(is_hop_by_hop("x-secret", &tokens));
        assert!(!is_hop_by_hop("authorization", &tokens));
        assert!(!is_hop_by_hop("content-type", &tokens));
    }

    #[test]
    fn response_headers_lose_hop_by_hop_ones_and_content_length() {
        let mut upstream = HeaderMap::new();
        upstream.insert("connection", HeaderValue::from_static("x-internal"));
        upstream.insert("x-internal", HeaderValue::from_static("1"));
        upstream.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        upstream.insert("content-length", HeaderValue::from_static("3"));
        upstream.insert("content-type", HeaderValue::from_static("text/plain"));
        upstream.append("set-cookie", HeaderValue::from_static("a=1"));
        upstream.append("set-cookie", HeaderValue::from_static("b=2"));
        let out = to_client(&upstream);
        let names: Vec<_> = out.keys().map(|n| n.as_str().to_owned()).collect();
        assert_eq!(out.len(), 3, "{names:?}");
        assert_eq!(out.get_all("set-cookie").count(), 2);
    }
}
