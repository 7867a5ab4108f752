//! The upstream's answer as the client's response: status, end-to-end headers, and
//! the body streamed as it arrives.

use actix_web::body::{BodyStream, SizedStream};
use actix_web::http::{Method, StatusCode};
use actix_web::web::Bytes;
use actix_web::HttpResponse;

use super::headers;

/// Streams `upstream` back to the client of a `method` request.
pub fn to_client(upstream: reqwest::Response, method: &Method) -> HttpResponse {
    let status =
        StatusCode::from_u16(upstream.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut res = HttpResponse::new(status);
    *res.headers_mut() = headers::to_client(upstream.headers());
    // A known length keeps `Content-Length` (and no chunking) on the client side too.
    let length = upstream.content_length();
    if status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
        return res;
    }
    if method == Method::HEAD {
        // No body follows, but the length a GET would have is still the answer.
        return match length {
            Some(length) => res
                .set_body(SizedStream::new(
                    length,
                    futures::stream::empty::<Result<Bytes, reqwest::Error>>(),
                ))
                .map_into_boxed_body(),
            None => res,
        };
    }
    let chunks = upstream.bytes_stream();
    match length {
        Some(length) => res
            .set_body(SizedStream::new(length, chunks))
            .map_into_boxed_body(),
        None => res.set_body(BodyStream::new(chunks)).map_into_boxed_body(),
    }
}
