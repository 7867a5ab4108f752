//! The request body on its way upstream: streamed, never buffered whole, cut off at
//! the size limit, and replayable to a second instance as long as the first never
//! started reading it.
//!
//! actix's payload lives on its worker thread (it is `!Send`) while the HTTP client
//! wants a `Send` stream, so a local task pumps chunks into a small channel. The
//! receiving end sits in a shared slot that the client's body stream takes on its
//! first poll: a connect failure happens before that, so the slot still holds the
//! receiver and a retry can use it.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use actix_web::http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use actix_web::web::{Bytes, Payload};
use actix_web::HttpRequest;
use futures::channel::mpsc;
use futures::{SinkExt as _, StreamExt as _};

use crate::error::GatewayError;

/// Chunks buffered between the client and the upstream: enough to keep both busy,
/// small enough that a slow upstream slows the client down (back pressure).
const CHANNEL_CHUNKS: usize = 8;

type Chunks = mpsc::Receiver<Result<Bytes, io::Error>>;

/// The body of one forwarded request.
pub struct RequestBody {
    /// `None` for requests without a body (nothing is sent, not even an empty chunk).
    slot: Option<Arc<Mutex<Option<Chunks>>>>,
    exceeded: Arc<AtomicBool>,
}

impl RequestBody {
    /// Starts pumping `payload`, limited to `limit` bytes; a declared `Content-Length`
    /// above the limit is refused at once, before a byte is read.
    pub fn start(req: &HttpRequest, payload: Payload, limit: u64) -> Result<Self, GatewayError> {
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|length| length > limit) {
            return Err(GatewayError::too_large(limit));
        }
        let exceeded = Arc::new(AtomicBool::new(false));
        let has_body = declared.is_some_and(|length| length > 0)
            || req.headers().contains_key(TRANSFER_ENCODING);
        if !has_body {
            return Ok(Self {
                slot: None,
                exceeded,
            });
        }
        let (sender, receiver) = mpsc::channel(CHANNEL_CHUNKS);
        actix_web::rt::spawn(pump(payload, sender, limit, exceeded.clone()));
        Ok(Self {
            slot: Some(Arc::new(Mutex::new(Some(receiver)))),
            exceeded,
        })
    }

    /// The body for one attempt, or `None` when the request has none.
    pub fn for_attempt(&self) -> Option<reqwest::Body> {
        let slot = self.slot.clone()?;
        let chunks = futures::stream::once(async move {
            slot.lock().unwrap_or_else(PoisonError::into_inner).take()
        })
        .filter_map(futures::future::ready)
        .flatten();
        Some(reqwest::Body::wrap_stream(chunks))
    }

    /// True while no attempt has read any of the body, so another may send it whole.
    pub fn is_replayable(&self) -> bool {
        self.slot.as_ref().is_none_or(|slot| {
            slot.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .is_some()
        })
    }

    /// True when the client sent more than the limit.
    pub fn exceeded_limit(&self) -> bool {
        self.exceeded.load(Ordering::Relaxed)
    }
}

/// Copies `payload` into `sender` until it ends, the limit is passed (then the upstream
/// gets an error instead of a truncated body that looks complete), or nobody listens.
async fn pump(
    mut payload: Payload,
    mut sender: mpsc::Sender<Result<Bytes, io::Error>>,
    limit: u64,
    exceeded: Arc<AtomicBool>,
) {
    let mut received: u64 = 0;
    while let Some(chunk) = payload.next().await {
        let item = match chunk {
            Ok(bytes) => {
                received += bytes.len() as u64;
                if received > limit {
                    exceeded.store(true, Ordering::Relaxed);
                    Err(io::Error::other("request body over the limit"))
                } else {
                    Ok(bytes)
                }
            }
            Err(error) => Err(io::Error::other(error.to_string())),
        };
        let stop = item.is_err();
        if sender.send(item).await.is_err() || stop {
            return;
        }
    }
}
