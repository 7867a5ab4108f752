//! The upstream's answer as the client's response: status, end-to-end headers, and
//! the body streamed as it arrives, cut off when the upstream stalls mid-body.

use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BodyStream, SizedStream};
use actix_web::error::PayloadError;
use actix_web::http::header::CONTENT_LENGTH;
use actix_web::http::{Method, StatusCode};
use actix_web::web::Bytes;
use actix_web::HttpResponse;
use futures::Stream;
use tokio::time::{Instant, Sleep};

use super::headers;

/// Streams `upstream` back to the client of a `method` request; a body that stays
/// silent for `idle` ends in an error (the client sees a cut-off response).
pub fn to_client<S>(
    upstream: awc::ClientResponse<S>,
    method: &Method,
    idle: Duration,
) -> HttpResponse
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin + 'static,
{
    let status = upstream.status();
    let mut res = HttpResponse::new(status);
    *res.headers_mut() = headers::to_client(upstream.headers());
    // A known length keeps `Content-Length` (and no chunking) on the client side too.
    let length = upstream
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
        return res;
    }
    if method == Method::HEAD {
        // No body follows, but the length a GET would have is still the answer.
        return match length {
            Some(length) => res
                .set_body(SizedStream::new(
                    length,
                    futures::stream::empty::<Result<Bytes, io::Error>>(),
                ))
                .map_into_boxed_body(),
            None => res,
        };
    }
    let chunks = IdleTimeout::new(upstream, idle);
    match length {
        Some(length) => res
            .set_body(SizedStream::new(length, chunks))
            .map_into_boxed_body(),
        None => res.set_body(BodyStream::new(chunks)).map_into_boxed_body(),
    }
}

/// A body stream that fails once its source yields nothing for `idle`.
///
/// The timer is armed only while the source is pending, so a body that is already
/// buffered (the common small JSON answer) never touches the timer wheel.
struct IdleTimeout<S> {
    source: Option<S>,
    idle: Duration,
    /// Created on the first wait; `armed` says whether its deadline belongs to the
    /// current wait.
    timer: Option<Pin<Box<Sleep>>>,
    armed: bool,
}

impl<S> IdleTimeout<S> {
    fn new(source: S, idle: Duration) -> Self {
        Self {
            source: Some(source),
            idle,
            timer: None,
            armed: false,
        }
    }
}

impl<S> Stream for IdleTimeout<S>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    type Item = Result<Bytes, io::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let Some(source) = this.source.as_mut() else {
            return Poll::Ready(None);
        };
        if let Poll::Ready(item) = Pin::new(source).poll_next(cx) {
            this.armed = false;
            return Poll::Ready(item.map(|chunk| chunk.map_err(io::Error::other)));
        }
        if !this.armed {
            // The clock is read once per wait, not on every wake-up within it.
            let deadline = Instant::now() + this.idle;
            this.timer
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)))
                .as_mut()
                .reset(deadline);
            this.armed = true;
        }
        let expired = this
            .timer
            .as_mut()
            .is_some_and(|timer| timer.as_mut().poll(cx).is_ready());
        if !expired {
            return Poll::Pending;
        }
        this.source = None;
        Poll::Ready(Some(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the upstream stalled mid-body",
        ))))
    }
}
