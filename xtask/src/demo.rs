//! `cargo xtask demo`: the choreography, watched from the outside.
//!
//! Against a running stack (`cargo xtask up`), through the gateway: registers a
//! user and waits until user-service's answer made the account ACTIVE, logs in,
//! places one order that stock can serve and one it cannot, waits for each to be
//! decided by product-service, pays the first at the sandbox provider's checkout
//! with the good test card (PAID), pays a second one with the declined card
//! (CANCELLED, its stock back), cancels the paid one (refunded, stock back) and
//! prints each order's timeline — every event with its producer and correlation id.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use ureq::Agent;

/// The demo's HTTP client and the gateway it talks to.
struct Client {
    agent: Agent,
    base: String,
}

impl Client {
    fn new(base: &str) -> Self {
        let agent: Agent = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        Self {
            agent,
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// Sends a request and returns (status, JSON body or null).
    fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Result<(u16, Value)> {
        let url = format!("{}{path}", self.base);
        let mut request = ureq::http::Request::builder().method(method).uri(&url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut response = match body {
            Some(body) => self.agent.run(
                request
                    .header("content-type", "application/json")
                    .body(body.to_string())?,
            ),
            None => self.agent.run(request.body(())?),
        }
        .with_context(|| format!("{method} {url} (is the stack up? `cargo xtask up`)"))?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// Polls `path` until `done` holds for its body, or `within` passes.
    fn wait_for(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        within: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Result<Value> {
        let deadline = Instant::now() + within;
        loop {
            let (status, body) = self.call("GET", path, headers, None)?;
            if status == 200 && done(&body) {
                return Ok(body);
            }
            if Instant::now() > deadline {
                bail!("{path} did not settle within {within:?}: {status} {body}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// Runs the demo against the gateway at `base` (e.g. http://127.0.0.1:8080).
pub fn run(base: &str) -> Result<()> {
    let client = Client::new(base);
    let email = format!("demo-{}@example.com", std::process::id());
    let password = "correct horse battery staple";

    say!("1. register {email}");
    let (status, account) = client.call(
        "POST",
        "/api/v1/auth/register",
        &[],
        Some(json!({"email": email, "password": password, "full_name": "Demo Diner"})),
    )?;
    expect(status, 202, &account)?;
    let id = text(&account, "id")?;
    let poll = text(&account, "poll_token")?;
    say!(
        "   202 Accepted: account {id} is {} until user-service answers",
        account["status"]
    );
    let account = client.wait_for(
        &format!("/api/v1/auth/accounts/{id}"),
        &[("x-poll-token", &poll)],
        Duration::from_secs(30),
        |a| a["status"] != "PENDING",
    )?;
    say!(
        "   account is {} (creating.user → user-service → creating.user.response)",
        account["status"]
    );

    say!("2. log in");
    let (status, tokens) = client.call(
        "POST",
        "/api/v1/auth/login",
        &[],
        Some(json!({"email": email, "password": password})),
    )?;
    expect(status, 200, &tokens)?;
    let bearer = format!("Bearer {}", text(&tokens, "access_token")?);
    let auth = [("authorization", bearer.as_str())];

    say!("3. pick a product");
    let (status, products) = client.call("GET", "/api/v1/products?size=5", &[], None)?;
    expect(status, 200, &products)?;
    let product = products["items"]
        .as_array()
        .and_then(|items| items.iter().find(|p| p["stock"].as_i64().unwrap_or(0) > 0))
        .context("no product in stock: the dev seed of product-service should have some")?
        .clone();
    let product_id = text(&product, "id")?;
    say!(
        "   {} ({} cents, {} in stock)",
        product["name"],
        product["price_cents"],
        product["stock"]
    );

    say!("4. order 1 unit (stock can serve it) and 1000 units (more than any demo product has)");
    let stock_path = format!("/api/v1/products/{product_id}");
    let served = place(&client, &auth, &product_id, 1)?;
    let refused = place(&client, &auth, &product_id, 1_000)?;
    let served = payable(&client, &auth, &served)?;
    say!(
        "   order {} is {} — total {} cents, stock held; pay at {}",
        served["id"],
        served["status"],
        served["total_cents"],
        served["payment"]["checkout_url"]
    );
    let refused = settle(&client, &auth, &refused)?;
    say!(
        "   order {} is {} — shortfalls {}",
        refused["id"],
        refused["status"],
        refused["shortfalls"]
    );

    say!("5. pay the confirmed order with the test card 4242 4242 4242 4242");
    let served_id = text(&served, "id")?;
    pay(&served, "4242 4242 4242 4242")?;
    let paid = client.wait_for(
        &format!("/api/v1/orders/{served_id}"),
        &auth,
        Duration::from_secs(30),
        |o| o["status"] != "CONFIRMED",
    )?;
    say!(
        "   order {served_id} is {} (the provider's signed webhook → payment-service → payment.succeeded)",
        paid["status"]
    );

    say!("6. order 2 more and pay with the declined card 4000 0000 0000 0002");
    let before = stock(&client, &stock_path)?;
    let declined = place(&client, &auth, &product_id, 2)?;
    let declined = payable(&client, &auth, &declined)?;
    pay(&declined, "4000 0000 0000 0002")?;
    let declined_id = text(&declined, "id")?;
    let declined = client.wait_for(
        &format!("/api/v1/orders/{declined_id}"),
        &auth,
        Duration::from_secs(30),
        |o| o["status"] != "CONFIRMED",
    )?;
    client.wait_for(&stock_path, &[], Duration::from_secs(30), |p| {
        p["stock"].as_i64() == Some(before)
    })?;
    say!(
        "   order {declined_id} is {} ({}); stock back to {before}",
        declined["status"],
        declined["cancellation_reason"]
    );

    say!("7. cancel the paid order (compensation: its stock comes back, its payment is refunded)");
    let (status, cancelled) = client.call(
        "POST",
        &format!("/api/v1/orders/{served_id}/cancel"),
        &auth,
        None,
    )?;
    expect(status, 200, &cancelled)?;
    let refunded = client.wait_for(
        &format!("/api/v1/orders/{served_id}"),
        &auth,
        Duration::from_secs(30),
        |o| o["refund"]["status"] == "succeeded",
    )?;
    client.wait_for(
        &format!("/api/v1/orders/{served_id}/timeline"),
        &auth,
        Duration::from_secs(30),
        |t| {
            t["events"].as_array().is_some_and(|e| {
                e.iter()
                    .any(|e| e["event_type"] == "inventory.stock.released")
            })
        },
    )?;
    say!(
        "   order {served_id} is {}, refund {}",
        refunded["status"],
        refunded["refund"]["status"]
    );

    for order in [&served, &declined, &refused] {
        let order_id = text(order, "id")?;
        let (_, timeline) = client.call(
            "GET",
            &format!("/api/v1/orders/{order_id}/timeline"),
            &auth,
            None,
        )?;
        say!("timeline of order {order_id}:");
        for event in timeline["events"].as_array().into_iter().flatten() {
            say!(
                "   {}  {:<26} by {:<16} correlation {}",
                event["occurred_at"].as_str().unwrap_or("?"),
                event["event_type"].as_str().unwrap_or("?"),
                event["source"].as_str().unwrap_or("?"),
                event["correlation_id"].as_str().unwrap_or("?"),
            );
        }
    }
    say!(
        "done: registration, an order paid then cancelled and refunded, one declined, one rejected"
    );
    Ok(())
}

fn place(
    client: &Client,
    auth: &[(&str, &str)],
    product_id: &str,
    quantity: i64,
) -> Result<String> {
    let (status, order) = client.call(
        "POST",
        "/api/v1/orders",
        auth,
        Some(json!({"lines": [{"product_id": product_id, "quantity": quantity}]})),
    )?;
    expect(status, 202, &order)?;
    say!("   order {} accepted as {}", order["id"], order["status"]);
    text(&order, "id")
}

/// Waits until order `id` is CONFIRMED with a checkout to pay at (or decided otherwise).
fn payable(client: &Client, auth: &[(&str, &str)], id: &str) -> Result<Value> {
    let order = client.wait_for(
        &format!("/api/v1/orders/{id}"),
        auth,
        Duration::from_secs(30),
        |o| {
            o["status"] != "PENDING"
                && (o["status"] != "CONFIRMED" || o["payment"]["checkout_url"].is_string())
        },
    )?;
    if order["status"] != "CONFIRMED" {
        bail!("order {id} was not confirmed: {order}");
    }
    Ok(order)
}

/// Enters `card` on the order's checkout page at the provider (not through the gateway:
/// the customer's browser goes to the provider, as with a real processor). A declined
/// card is a 200 too: the checkout answers with the failed session.
fn pay(order: &Value, card: &str) -> Result<()> {
    let checkout = text(&order["payment"], "checkout_url")?;
    let (status, answer) =
        Client::new(&checkout).call("POST", "/pay", &[], Some(json!({ "card_number": card })))?;
    expect(status, 200, &answer)
}

/// The product's stock now.
fn stock(client: &Client, path: &str) -> Result<i64> {
    let (status, product) = client.call("GET", path, &[], None)?;
    expect(status, 200, &product)?;
    product["stock"].as_i64().context("no stock")
}

fn settle(client: &Client, auth: &[(&str, &str)], id: &str) -> Result<Value> {
    client.wait_for(
        &format!("/api/v1/orders/{id}"),
        auth,
        Duration::from_secs(30),
        |o| o["status"] != "PENDING",
    )
}

fn expect(status: u16, wanted: u16, body: &Value) -> Result<()> {
    if status != wanted {
        bail!("expected {wanted}, got {status}: {body}");
    }
    Ok(())
}

fn text(value: &Value, field: &str) -> Result<String> {
    value[field]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no `{field}` in {value}"))
}
