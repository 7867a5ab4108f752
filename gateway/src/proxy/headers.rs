//! Headers across the edge: hop-by-hop ones stay behind, the ids and the client's
//! address go forward.
//!
//! Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection, not the message; a
//! proxy that forwarded `Connection: close` or `Transfer-Encoding` would corrupt the
//! next hop's framing. `Content-Length` is framing too: the forwarded body declares
//! its own length (see [`super::body`]), and so does the response to the client.

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::{HttpMessage as _, HttpRequest};
use comanda_kit::correlation::{self, CorrelationId};
use comanda_kit::request_id::{self, RequestId};

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

/// Request headers the gateway sets itself or answered itself: `Host` names the
/// gateway (the client sets the upstream's), `Expect: 100-continue` was answered
/// here, and the `X-Forwarded-*` describing this hop are rebuilt.
const REPLACED_ON_REQUESTS: [&str; 5] = [
    "host",
    "expect",
    "content-length",
    "x-forwarded-proto",
    "x-forwarded-host",
];

/// True for `name` (lower case) when it must not cross the gateway: hop-by-hop, any
/// `Proxy-*`, or named in the message's own `Connection` header.
fn is_hop_by_hop(name: &str, connection_tokens: &[String]) -> bool {
    HOP_BY_HOP.contains(&name)
        || name.starts_with("proxy-")
        || connection_tokens.iter().any(|token| token == name)
}

/// The header names listed in the `Connection` values of `headers`, lower case.
fn connection_tokens(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all("connection")
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|token| token.trim().to_ascii_lowercase())
        .filter(|token| !token.is_empty())
        .collect()
}

/// The end-to-end headers of `headers`, minus the names in `also_dropped`.
fn end_to_end(headers: &HeaderMap, also_dropped: &[&str]) -> HeaderMap {
    let tokens = connection_tokens(headers);
    let mut out = HeaderMap::with_capacity(headers.len() + 5);
    for (name, value) in headers {
        let lower = name.as_str();
        if !is_hop_by_hop(lower, &tokens) && !also_dropped.contains(&lower) {
            out.append(name.clone(), value.clone());
        }
    }
    out
}

/// The headers to send upstream for `req`: the client's end-to-end headers (the
/// `Authorization` header unchanged), the request and correlation ids, and
/// `X-Forwarded-*` describing the client.
pub fn to_upstream(req: &HttpRequest) -> HeaderMap {
    let mut out = end_to_end(req.headers(), &REPLACED_ON_REQUESTS);
    set_ids(req, &mut out);
    set_forwarded(req, &mut out);
    out
}

/// The ids resolved by the middleware, which replace whatever the client sent.
fn set_ids(req: &HttpRequest, out: &mut HeaderMap) {
    let extensions = req.extensions();
    if let Some(id) = extensions.get::<CorrelationId>() {
        if let Ok(value) = HeaderValue::from_str(id.as_str()) {
            out.insert(HeaderName::from_static(correlation::HEADER), value);
        }
    }
    if let Some(RequestId(id)) = extensions.get::<RequestId>() {
        out.insert(HeaderName::from_static(request_id::HEADER), id.clone());
    }
}

/// `X-Forwarded-For` (the client's address appended to any earlier proxies'),
/// `X-Forwarded-Proto` and `X-Forwarded-Host`.
fn set_forwarded(req: &HttpRequest, out: &mut HeaderMap) {
    const FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
    if let Some(peer) = req.peer_addr() {
        let earlier = out.get(&FOR).and_then(|v| v.to_str().ok());
        let chain = match earlier {
            Some(earlier) => format!("{earlier}, {}", peer.ip()),
            None => peer.ip().to_string(),
        };
        if let Ok(value) = HeaderValue::from_str(&chain) {
            out.insert(FOR, value);
        }
    }
    let proto = if req.app_config().secure() {
        "https"
    } else {
        "http"
    };
    out.insert(
        HeaderName::from_static("x-forwarded-proto"),
        HeaderValue::from_static(proto),
    );
    if let Some(host) = req.headers().get("host") {
        out.insert(HeaderName::from_static("x-forwarded-host"), host.clone());
    }
}

/// The upstream response's end-to-end headers, without the framing ones actix sets
/// itself (`Content-Length`).
pub fn to_client(upstream: &HeaderMap) -> HeaderMap {
    end_to_end(upstream, &["content-length"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_and_those_named_in_connection_are_recognised() {
        let mut headers = HeaderMap::new();
        headers.insert(
            HeaderName::from_static("connection"),
            HeaderValue::from_static("close, X-Secret"),
        );
        let tokens = connection_tokens(&headers);
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
        for (name, value) in [
            ("connection", "x-internal"),
            ("x-internal", "1"),
            ("keep-alive", "timeout=5"),
            ("content-length", "3"),
            ("content-type", "text/plain"),
            ("set-cookie", "a=1"),
            ("set-cookie", "b=2"),
        ] {
            upstream.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        let out = to_client(&upstream);
        let names: Vec<_> = out.keys().map(|n| n.as_str().to_owned()).collect();
        assert_eq!(out.len(), 3, "{names:?}");
        assert!(out.contains_key("content-type"), "{names:?}");
        assert_eq!(out.get_all("set-cookie").count(), 2);
    }
}
