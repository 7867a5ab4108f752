//! `POST /api/v1/payments/webhooks/sandbox`: the sandbox provider's webhooks.
//!
//! In this order, and nothing is stored before the last step:
//! 1. the raw body is read, up to [`MAX_BODY_BYTES`] (413 `payload_too_large`);
//! 2. its `Sandbox-Signature` is checked on those raw bytes, before any parsing
//!    (400 `invalid_signature`, or `stale_signature` for a genuine but old one);
//! 3. the body is decoded (400 `invalid_payload`: signed, so the provider's bug);
//! 4. ONE transaction claims the event id, changes the payment and writes its outbox
//!    event (see [`crate::events::webhook`]); 200 only after it commits. A database
//!    that fails is a 503: the provider delivers again later.
//!
//! A redelivered event id is a 200 with no effect.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use comanda_kit::db::Pool;
use comanda_kit::problem::Problem;
use diesel_async::AsyncConnection;
use futures::StreamExt;
use secrecy::SecretString;
use serde::Serialize;

use crate::events::webhook::{apply, Applied};
use crate::events::PaymentTopics;
use crate::provider::signature::{self, HEADER};
use crate::provider::webhook::WebhookEvent;
use crate::settings::ProviderSettings;

/// Largest webhook body accepted (the sandbox's are well under 1 KiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What a webhook's signature is checked against.
#[derive(Clone)]
pub struct WebhookVerifier {
    secrets: Vec<SecretString>,
    tolerance_secs: u64,
}

impl WebhookVerifier {
    /// The secrets and tolerance of `provider`.
    pub fn new(provider: &ProviderSettings) -> Self {
        Self {
            secrets: provider.webhook_secrets.clone(),
            tolerance_secs: provider.signature_tolerance_secs,
        }
    }
}

/// The answer to a delivery that was stored (or had been).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Received {
    /// The provider's event id.
    pub id: String,
    /// True when the event id had been received before (nothing was done now).
    pub duplicate: bool,
    /// `applied`, `ignored`, `unknown_payment`; `duplicate` for a redelivery.
    pub outcome: String,
}

/// `POST /api/v1/payments/webhooks/sandbox` (public; authenticated by its signature).
#[utoipa::path(
    post,
    path = "/api/v1/payments/webhooks/sandbox",
    operation_id = "sandbox_webhook",
    summary = "The sandbox provider's webhook (signed with Sandbox-Signature)",
    tag = "payments",
    params(("Sandbox-Signature" = String, Header,
        description = "`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<raw body>\")>`, \
            one `v1` per signing secret.")),
    request_body(content = String, content_type = "application/json",
        description = "`{id, type, created, data: {session_id, reference, amount_cents, currency, \
            failure_reason?, refund_id?}}`; the signature covers these exact bytes."),
    responses(
        (status = 200, description = "Applied and committed, or a redelivery of an event \
            received before (no effect).", body = Received),
        (status = 400, description = "No, a wrong, or an old signature: `invalid_signature`, \
            `stale_signature`; a signed body that is no event: `invalid_payload`. Nothing stored.",
            body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 64 KiB: `payload_too_large`.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn sandbox(
    req: HttpRequest,
    payload: web::Payload,
    pool: web::Data<Pool>,
    verifier: web::Data<WebhookVerifier>,
    topics: web::Data<PaymentTopics>,
) -> Result<HttpResponse, Problem> {
    let body = read_body(payload).await?;
    let header = req.headers().get(HEADER).and_then(|v| v.to_str().ok());
    let now = Utc::now();
    if let Err(error) = signature::verify(
        header,
        &body,
        &verifier.secrets,
        now,
        verifier.tolerance_secs,
    ) {
        crate::metrics::verification_failure(error.code());
        tracing::warn!(code = error.code(), "webhook refused");
        return Err(Problem::bad_request(error.code(), error.to_string()));
    }
    let event = WebhookEvent::parse(&body).map_err(|error| {
        crate::metrics::verification_failure("invalid_payload");
        tracing::warn!(%error, "a signed webhook does not decode");
        Problem::bad_request("invalid_payload", error.to_string())
    })?;
    let mut conn = pool.get().await?;
    let topics = topics.get_ref();
    let applied = conn
        .transaction(async |conn| apply(conn, &event, topics).await)
        .await
        .map_err(|error| {
            // Whatever went wrong, the event is not applied: the provider must retry.
            tracing::warn!(event_id = %event.id, %error, "webhook not applied; the provider will retry");
            Problem::unavailable("the webhook could not be applied now; deliver it again later")
        })?;
    let (duplicate, outcome) = match applied {
        Applied::Duplicate => (true, "duplicate"),
        Applied::Stored { outcome, status } => {
            if let Some(status) = status {
                crate::metrics::payment(status);
            }
            (false, outcome.as_str())
        }
    };
    crate::metrics::webhook(&event.event_type, outcome);
    Ok(HttpResponse::Ok().json(Received {
        id: event.id,
        duplicate,
        outcome: outcome.to_owned(),
    }))
}

/// The raw body, refused once it passes [`MAX_BODY_BYTES`].
async fn read_body(mut payload: web::Payload) -> Result<web::BytesMut, Problem> {
    let too_large = || {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body exceeds the limit of {MAX_BODY_BYTES} bytes"),
        )
    };
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| Problem::bad_request("invalid_payload", e.to_string()))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
