//! The request body on its way upstream: streamed, never buffered whole, cut off at
//! the size limit, and replayable to a second instance as long as the first never
//! started reading it.
//!
//! The client's payload sits in a slot that the upstream request's body stream takes
//! on its first poll. The client only polls the body once it is connected, so after
//! a connect failure the slot still holds the payload and a retry can send it whole.
//! Everything here lives on the worker thread that accepted the request (the payload
//! is `!Send`, and so is the per-worker client), hence `Rc` and `Cell`.

use std::cell::{Cell, RefCell};
use std::io;
use std::rc::Rc;

use actix_web::body::{BodyStream, BoxBody, MessageBody as _, SizedStream};
use actix_web::http::header::{HeaderMap, CONTENT_LENGTH, TRANSFER_ENCODING};
use actix_web::web::{Bytes, Payload};
use futures::StreamExt as _;

use crate::error::GatewayError;

/// The body of one forwarded request.
pub struct RequestBody {
    /// `None` for requests without a body (nothing is sent, not even an empty chunk).
    slot: Option<Rc<RefCell<Option<Payload>>>>,
    /// The length the client declared; the upstream gets the same framing.
    declared: Option<u64>,
    limit: u64,
    exceeded: Rc<Cell<bool>>,
}

impl RequestBody {
    /// Holds `payload` (of a request with `headers`) for the attempts, limited to
    /// `limit` bytes; a declared `Content-Length` above the limit is refused at once,
    /// before a byte is read.
    pub fn new(headers: &HeaderMap, payload: Payload, limit: u64) -> Result<Self, GatewayError> {
        let declared = headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|length| length > limit) {
            return Err(GatewayError::too_large(limit));
        }
        let has_body =
            declared.is_some_and(|length| length > 0) || headers.contains_key(TRANSFER_ENCODING);
        Ok(Self {
            slot: has_body.then(|| Rc::new(RefCell::new(Some(payload)))),
            declared,
            limit,
            exceeded: Rc::new(Cell::new(false)),
        })
    }

    /// The body for one attempt, or `None` when the request has none. A declared
    /// length is kept (the upstream sees `Content-Length`, not chunks).
    pub fn for_attempt(&self) -> Option<BoxBody> {
        let slot = self.slot.clone()?;
        let (limit, exceeded) = (self.limit, self.exceeded.clone());
        let mut received: u64 = 0;
        let chunks = futures::stream::once(async move { slot.borrow_mut().take() })
            .filter_map(futures::future::ready)
            .flatten()
            .map(move |chunk| {
                let bytes = chunk.map_err(|error| io::Error::other(error.to_string()))?;
                received += bytes.len() as u64;
                if received > limit {
                    // An error, not a truncated body that looks complete upstream.
                    exceeded.set(true);
                    return Err(io::Error::other("request body over the limit"));
                }
                Ok::<Bytes, io::Error>(bytes)
            });
        Some(match self.declared {
            Some(length) => SizedStream::new(length, chunks).boxed(),
            None => BodyStream::new(chunks).boxed(),
        })
    }

    /// True while no attempt has read any of the body, so another may send it whole.
    pub fn is_replayable(&self) -> bool {
        self.slot
            .as_ref()
            .is_none_or(|slot| slot.borrow().is_some())
    }

    /// True when the client sent more than the limit.
    pub fn exceeded_limit(&self) -> bool {
        self.exceeded.get()
    }
}
