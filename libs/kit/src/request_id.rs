//! `X-Request-Id`: one id per client request, created at the edge when the client
//! sent none, forwarded to the service (which keeps it) and echoed on the response.
//!
//! Unlike the correlation id (which follows a whole business flow through events),
//! the request id names one HTTP exchange, so a client can quote it to support and
//! the gateway's access line and the service's share it.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use uuid::Uuid;

/// The header carrying the request id, in both directions.
pub const HEADER: &str = "x-request-id";
/// Longest client-chosen id kept; longer ones are replaced, so logs stay bounded.
const MAX_LEN: usize = 128;

/// The request id of the current request.
#[derive(Debug, Clone)]
pub struct RequestId(pub HeaderValue);

impl RequestId {
    /// The client's id when it is short printable ASCII, else a fresh UUIDv7.
    pub fn from_header(value: Option<&HeaderValue>) -> Self {
        let acceptable = value.filter(|v| {
            !v.is_empty() && v.len() <= MAX_LEN && v.as_bytes().iter().all(|b| b.is_ascii_graphic())
        });
        Self(acceptable.cloned().unwrap_or_else(|| {
            HeaderValue::from_str(&Uuid::now_v7().to_string())
                .unwrap_or_else(|_| HeaderValue::from_static("invalid"))
        }))
    }
}

/// Middleware: resolves the id, stores it in the request extensions, echoes it back.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = RequestId::from_header(req.headers().get(HEADER));
    req.extensions_mut().insert(id.clone());
    let mut res = next.call(req).await?;
    res.headers_mut()
        .insert(HeaderName::from_static(HEADER), id.0);
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clients_id_is_kept() {
        let id = RequestId::from_header(Some(&HeaderValue::from_static("abc-123")));
        assert_eq!(id.0, "abc-123");
    }

    #[test]
    fn a_missing_or_unprintable_id_is_replaced_by_a_uuid_v7() {
        for value in [None, Some(HeaderValue::from_static("a b"))] {
            let id = RequestId::from_header(value.as_ref());
            let uuid = Uuid::parse_str(id.0.to_str().expect("ascii")).expect("a uuid");
            assert_eq!(uuid.get_version_num(), 7);
        }
    }
}
