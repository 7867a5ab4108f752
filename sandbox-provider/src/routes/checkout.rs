//! The hosted checkout: `GET /checkout/{id}` (a card form) and
//! `POST /checkout/{id}/pay` (`{card_number}`), where a test card decides the outcome.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::{PublicUrl, SessionView};
use crate::domain::Session;
use crate::error::ApiError;
use crate::processor::Processor;

/// Body of `POST /checkout/{id}/pay`.
#[derive(Debug, Deserialize)]
pub struct Pay {
    /// As typed: digits, spaces allowed.
    card_number: String,
}

/// Enters a card: 200 with the session; 410 after expiry, 409 when not open.
#[tracing::instrument(skip_all, fields(session_id = %id))]
pub async fn pay(
    id: web::Path<String>,
    body: web::Json<Pay>,
    processor: web::Data<Processor>,
    public_url: web::Data<PublicUrl>,
) -> Result<HttpResponse, ApiError> {
    let session = processor.into_inner().pay(&id, &body.card_number)?;
    Ok(HttpResponse::Ok().json(SessionView::new(session, &public_url)))
}

/// The card form of session `id`.
#[tracing::instrument(skip_all, fields(session_id = %id))]
pub async fn page(
    id: web::Path<String>,
    processor: web::Data<Processor>,
) -> Result<HttpResponse, ApiError> {
    let session = processor.session(&id)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(render(&session)))
}

fn render(session: &Session) -> String {
    let request = &session.request;
    let amount = format!(
        "{}.{:02} {}",
        request.amount_cents / 100,
        request.amount_cents % 100,
        escape(&request.currency)
    );
    let status = escape(&format!("{:?}", session.status).to_lowercase());
    let id = escape(&session.id);
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sandbox checkout</title>
<style>body{{font-family:sans-serif;max-width:26rem;margin:3rem auto}}input,button{{font-size:1.1rem;padding:.4rem;width:100%;margin:.3rem 0}}</style>
</head><body>
<h1>Sandbox checkout</h1>
<p>Pay <strong>{amount}</strong> (reference <code>{reference}</code>). Status: <strong id="status">{status}</strong></p>
<form id="pay">
<input name="card_number" placeholder="4242 4242 4242 4242" autocomplete="off" required>
<button type="submit">Pay</button>
</form>
<p id="result"></p>
<p><small>Test cards: 4242 4242 4242 4242 succeeds; 4000 0000 0000 0002 is declined;
4000 0000 0000 9995 has insufficient funds; 4000 0000 0000 3220 succeeds after a delay.</small></p>
<script>
document.getElementById("pay").addEventListener("submit", async (e) => {{
  e.preventDefault();
  const card_number = e.target.card_number.value;
  const res = await fetch("/checkout/{id}/pay", {{method: "POST",
    headers: {{"Content-Type": "application/json"}}, body: JSON.stringify({{card_number}})}});
  const body = await res.json();
  document.getElementById("result").textContent = res.ok
    ? "Status: " + body.status + (body.failure_reason ? " (" + body.failure_reason + ")" : "")
    : body.detail;
  if (res.ok) document.getElementById("status").textContent = body.status;
}});
</script>
</body></html>
"#,
        reference = escape(&request.reference),
    )
}

/// HTML-escapes text placed in element content or attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
