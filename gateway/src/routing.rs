//! Which service a path belongs to, and which requests need no token.
//!
//! Routing is by path prefix only; the gateway knows nothing of a service's routes
//! beyond the few public ones, so services add endpoints without touching it.

use std::borrow::Cow;

use actix_web::http::Method;

/// A service behind the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// auth-service: accounts, sessions, the token key set.
    Auth,
    /// user-service: profiles.
    User,
    /// order-service: orders.
    Order,
    /// product-service: the catalogue.
    Product,
    /// payment-service: payments and the provider's webhooks.
    Payment,
}

impl Service {
    /// The name of this service's forwarded routes in logs and metrics (one per
    /// service keeps the label's cardinality bounded).
    pub fn route_name(self) -> &'static str {
        match self {
            Self::Auth => "/api/v1/auth/**",
            Self::User => "/api/v1/users/**",
            Self::Order => "/api/v1/orders/**",
            Self::Product => "/api/v1/products/**",
            Self::Payment => "/api/v1/payments/**",
        }
    }
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Auth => "auth",
            Self::User => "user",
            Self::Order => "order",
            Self::Product => "product",
            Self::Payment => "payment",
        })
    }
}

/// The token key set auth-service publishes.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// The API documentation (Swagger UI and the merged OpenAPI document). The gateway
/// serves everything under it itself, to anyone: it is never forwarded, so it is not
/// a prefix of [`service_for`] and needs no token.
pub const DOCS_PATH: &str = "/api/docs";

/// Path prefixes and the service owning them.
pub const PREFIXES: [(&str, Service); 5] = [
    ("/api/v1/auth", Service::Auth),
    ("/api/v1/users", Service::User),
    ("/api/v1/orders", Service::Order),
    ("/api/v1/products", Service::Product),
    ("/api/v1/payments", Service::Payment),
];

/// Auth endpoints a caller uses to obtain or give back a token, so they cannot need one.
const PUBLIC_AUTH_POSTS: [&str; 4] = [
    "/api/v1/auth/register",
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    "/api/v1/auth/logout",
];

/// Payment providers' webhooks: the provider holds no token of ours; payment-service
/// authenticates each call by its signature over the raw body, which the gateway
/// forwards unchanged.
const PUBLIC_WEBHOOK_POSTS: [&str; 1] = ["/api/v1/payments/webhooks/sandbox"];

/// Endpoints rate limited per client IP: the ones that guess passwords or create accounts.
const RATE_LIMITED_POSTS: [&str; 2] = ["/api/v1/auth/login", "/api/v1/auth/register"];

/// Endpoints rate limited per user (the token's subject): placing an order holds stock.
const RATE_LIMITED_USER_POSTS: [&str; 1] = ["/api/v1/orders"];

/// The service owning `path`, if any. A prefix matches whole segments only
/// (`/api/v1/usersx` is nobody's).
pub fn service_for(path: &str) -> Option<Service> {
    if path == JWKS_PATH {
        return Some(Service::Auth);
    }
    PREFIXES.iter().find_map(|&(prefix, service)| {
        let rest = path.strip_prefix(prefix)?;
        (rest.is_empty() || rest.starts_with('/')).then_some(service)
    })
}

/// True when `method path` may be called without an access token.
pub fn is_public(method: &Method, path: &str) -> bool {
    if path == JWKS_PATH {
        return true;
    }
    if method == Method::POST {
        return PUBLIC_AUTH_POSTS.contains(&path) || PUBLIC_WEBHOOK_POSTS.contains(&path);
    }
    // Reading the catalogue: anyone may browse before signing in.
    (method == Method::GET || method == Method::HEAD) && service_for(path) == Some(Service::Product)
}

/// The rate-limited endpoint `method path` is, if it is one.
pub fn rate_limited(method: &Method, path: &str) -> Option<&'static str> {
    if method != Method::POST {
        return None;
    }
    RATE_LIMITED_POSTS.iter().copied().find(|&p| p == path)
}

/// The endpoint `method path` is, if it is rate limited per user; `path` is normalized
/// (see [`normalize`]). Such an endpoint is never public, so a verified subject exists.
/// Trailing slashes do not make another endpoint: the limit must not depend on whether
/// the service's router would take `/api/v1/orders/` for `/api/v1/orders`.
pub fn rate_limited_per_user(method: &Method, path: &str) -> Option<&'static str> {
    if method != Method::POST {
        return None;
    }
    let path = path.trim_end_matches('/');
    RATE_LIMITED_USER_POSTS.iter().copied().find(|&p| p == path)
}

/// `path` with every percent-encoded unreserved character (`A-Z a-z 0-9 - . _ ~`)
/// decoded (RFC 3986 §6.2.2.2: `logi%6e` and `login` are the same path).
///
/// The services' router decodes them before matching, so the gateway decides on,
/// and forwards, this form: a spelling like `/api/v1/auth/logi%6e` must not pass for
/// another route than the `login` the service will run. Other escapes (`%2F`, `%25`,
/// non-ASCII) stay as they are: they can never spell a route's literal text.
///
/// Decoded to a fixed point: one layer can spell a new escape (`logi%%36e` →
/// `logi%6e`), which the service would decode in turn (→ `login`), so the gateway
/// decodes until nothing changes and decides on what the service runs. Every round
/// that changes the path shortens it, so the loop ends.
pub fn normalize(path: &str) -> Cow<'_, str> {
    let mut current = decode_unreserved(path);
    loop {
        let next = decode_unreserved(&current);
        if *next == *current {
            return current;
        }
        current = Cow::Owned(next.into_owned());
    }
}

/// One layer of [`normalize`].
fn decode_unreserved(path: &str) -> Cow<'_, str> {
    if !path.contains('%') {
        return Cow::Borrowed(path);
    }
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = (bytes[i] == b'%')
            .then(|| path.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            .filter(|&byte| byte.is_ascii_alphanumeric() || b"-._~".contains(&byte));
        match decoded {
            Some(byte) => {
                out.push(char::from(byte));
                i += 3;
            }
            None => {
                // Whole characters only: `%` is ASCII, so `i` is always a boundary.
                let c = path[i..].chars().next().unwrap_or_default();
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    Cow::Owned(out)
}

/// True when a segment of `path` is `.` or `..`, raw or percent-encoded: the gateway
/// decides routing and access on the path it sees, so it must not be reinterpreted
/// upstream as another one.
pub fn has_dot_segments(path: &str) -> bool {
    path.split('/').any(|segment| {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        decoded == "." || decoded == ".."
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_go_to_the_service_owning_their_prefix() {
        assert_eq!(service_for("/api/v1/auth/login"), Some(Service::Auth));
        assert_eq!(service_for("/.well-known/jwks.json"), Some(Service::Auth));
        assert_eq!(service_for("/api/v1/users/me"), Some(Service::User));
        assert_eq!(service_for("/api/v1/orders"), Some(Service::Order));
        assert_eq!(service_for("/api/v1/products/42"), Some(Service::Product));
        assert_eq!(service_for("/api/v1/payments/7"), Some(Service::Payment));
    }

    #[test]
    fn the_docs_belong_to_no_service() {
        assert_eq!(service_for(DOCS_PATH), None);
        assert_eq!(service_for("/api/docs/openapi.json"), None);
    }

    #[test]
    fn a_prefix_matches_whole_segments_only() {
        assert_eq!(service_for("/api/v1/usersx"), None);
        assert_eq!(service_for("/api/v2/users"), None);
        assert_eq!(service_for("/"), None);
    }

    #[test]
    fn only_token_endpoints_catalogue_reads_and_the_key_set_are_public() {
        assert!(is_public(&Method::POST, "/api/v1/auth/login"));
        assert!(is_public(&Method::POST, "/api/v1/auth/register"));
        assert!(is_public(&Method::GET, "/api/v1/products"));
        assert!(is_public(&Method::HEAD, "/api/v1/products/1"));
        assert!(is_public(&Method::GET, JWKS_PATH));
        assert!(!is_public(&Method::GET, "/api/v1/auth/accounts/1"));
        assert!(!is_public(&Method::POST, "/api/v1/products"));
        assert!(!is_public(&Method::DELETE, "/api/v1/products/1"));
        assert!(!is_public(&Method::GET, "/api/v1/orders"));
        assert!(!is_public(&Method::GET, "/api/v1/auth/login"));
    }

    #[test]
    fn a_providers_webhook_is_public_and_reading_payments_is_not() {
        assert!(is_public(
            &Method::POST,
            "/api/v1/payments/webhooks/sandbox"
        ));
        assert!(!is_public(
            &Method::GET,
            "/api/v1/payments/webhooks/sandbox"
        ));
        assert!(!is_public(&Method::GET, "/api/v1/payments/1"));
        assert!(!is_public(&Method::GET, "/api/v1/payments"));
        assert!(!is_public(&Method::POST, "/api/v1/payments/webhooks/other"));
    }

    #[test]
    fn only_login_and_register_are_rate_limited() {
        assert!(rate_limited(&Method::POST, "/api/v1/auth/login").is_some());
        assert!(rate_limited(&Method::POST, "/api/v1/auth/register").is_some());
        assert!(rate_limited(&Method::POST, "/api/v1/auth/refresh").is_none());
        assert!(rate_limited(&Method::GET, "/api/v1/auth/login").is_none());
    }

    #[test]
    fn only_placing_an_order_is_rate_limited_per_user() {
        assert!(rate_limited_per_user(&Method::POST, "/api/v1/orders").is_some());
        assert!(rate_limited_per_user(&Method::POST, "/api/v1/orders//").is_some());
        assert!(!is_public(&Method::POST, "/api/v1/orders"));
        assert!(rate_limited_per_user(&Method::GET, "/api/v1/orders").is_none());
        assert!(rate_limited_per_user(&Method::POST, "/api/v1/orders/1/cancel").is_none());
        assert!(rate_limited_per_user(&Method::POST, "/api/v1/auth/login").is_none());
    }

    #[test]
    fn percent_encoded_unreserved_characters_are_decoded_and_nothing_else() {
        assert_eq!(normalize("/api/v1/auth/logi%6e"), "/api/v1/auth/login");
        assert_eq!(
            normalize("/api/v1/%61uth/%6C%6F%67%69%6E"),
            "/api/v1/auth/login"
        );
        assert_eq!(normalize("/a/%2d%2E%5f%7E%30"), "/a/-._~0");
        // Reserved characters, `%` itself, non-ASCII and broken escapes stay.
        assert_eq!(
            normalize("/a%2Fb/%25/%C3%A9/%zz/%4"),
            "/a%2Fb/%25/%C3%A9/%zz/%4"
        );
        assert_eq!(normalize("/é/%6e"), "/é/n");
        assert!(matches!(normalize("/api/v1/orders"), Cow::Borrowed(_)));
    }

    #[test]
    fn dot_segments_are_detected_even_when_encoded() {
        assert!(has_dot_segments("/api/v1/products/../orders"));
        assert!(has_dot_segments("/api/v1/products/%2E%2e/orders"));
        assert!(has_dot_segments("/api/v1/products/./1"));
        assert!(!has_dot_segments("/api/v1/products/a..b"));
    }
}
