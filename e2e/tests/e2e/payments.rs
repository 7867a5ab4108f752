//! Payments through the whole system: real processes, the sandbox provider as the
//! card processor, the customer paying on its checkout, and every effect read back
//! where it lives (the order through the gateway, the charges at the provider).
//!
//! The provider sends every webhook twice and delivers them in reversed batches in
//! all of these tests: each outcome must still happen exactly once.

use std::time::Duration;

use serde_json::{json, Value};

use e2e::stack::{Options, Stack};

use crate::client::{id, Client};

/// The test cards of the sandbox.
const PAYS: &str = "4242 4242 4242 4242";
const DECLINED: &str = "4000 0000 0000 0002";
const DELAYED: &str = "4000 0000 0000 3220";

/// A stack whose provider duplicates and reorders its webhooks, whose checkouts close
/// `payment_timeout_secs` after an order is CONFIRMED (which EXPIRES 2 s later), and whose limits let one customer place many
/// orders at once.
async fn stack(payment_timeout_secs: u64, delayed_success_ms: u64) -> Stack {
    let env = |process: &str, var: &str, value: String| (process.into(), var.into(), value);
    let options = Options {
        env: vec![
            env(
                "sandbox-provider",
                "COMANDA__WEBHOOK__DUPLICATE",
                "true".into(),
            ),
            env(
                "sandbox-provider",
                "COMANDA__WEBHOOK__OUT_OF_ORDER",
                "true".into(),
            ),
            env(
                "sandbox-provider",
                "COMANDA__WEBHOOK__BATCH_WINDOW_MS",
                "200".into(),
            ),
            env(
                "sandbox-provider",
                "COMANDA__DELAYED_SUCCESS_MS",
                delayed_success_ms.to_string(),
            ),
            env(
                "order-service",
                "COMANDA__PAYMENT__TIMEOUT_SECS",
                payment_timeout_secs.to_string(),
            ),
            // A payment's report reaches order-service within a second or two here.
            env(
                "order-service",
                "COMANDA__PAYMENT__SETTLEMENT_GRACE_SECS",
                "2".into(),
            ),
            env(
                "order-service",
                "COMANDA__SAGA__POLL_INTERVAL_MS",
                "200".into(),
            ),
            env(
                "payment-service",
                "COMANDA__SAGA__POLL_INTERVAL_MS",
                "200".into(),
            ),
            env(
                "order-service",
                "COMANDA__ORDERS__MAX_OPEN_PER_USER",
                "1000".into(),
            ),
            env(
                "gateway",
                "COMANDA__RATE_LIMIT__ORDERS__BURST",
                "1000".into(),
            ),
            env(
                "gateway",
                "COMANDA__RATE_LIMIT__ORDERS__PER_MINUTE",
                "100000".into(),
            ),
        ],
        log_dir: None,
        ..Options::default()
    };
    Stack::start_with(comanda_testkit::TestEnv::new().await, options).await
}

/// A seeded product with at least `units` in stock: (id, stock, price).
async fn product_with(client: &Client, units: i64) -> (String, i64, i64) {
    let (status, products) = client.get("/api/v1/products?size=50").await;
    assert_eq!(status, 200, "{products}");
    let product = products["items"]
        .as_array()
        .and_then(|items| items.iter().find(|p| p["stock"].as_i64() >= Some(units)))
        .unwrap_or_else(|| panic!("a seeded product with {units} in stock: {products}"))
        .clone();
    let stock = product["stock"].as_i64().expect("stock");
    (
        id(&product),
        stock,
        product["price_cents"].as_i64().expect("price"),
    )
}

async fn stock_of(client: &Client, product: &str) -> i64 {
    let (_, product) = client.get(&format!("/api/v1/products/{product}")).await;
    product["stock"].as_i64().expect("stock")
}

/// Places an order of `quantity` × `product`; returns its path once it is CONFIRMED
/// with a checkout to pay at.
async fn place_until_payable(client: &Client, product: &str, quantity: i64) -> (String, Value) {
    place_polling_every(client, product, quantity, Duration::from_millis(100)).await
}

/// [`place_until_payable`] polling the order every `interval`.
async fn place_polling_every(
    client: &Client,
    product: &str,
    quantity: i64,
    interval: Duration,
) -> (String, Value) {
    // A good client: one key per order, the same request again after a 503.
    let key = uuid::Uuid::now_v7().to_string();
    let body = json!({"lines": [{"product_id": product, "quantity": quantity}]});
    let headers = [("idempotency-key", key.as_str())];
    let mut attempts = 0;
    let order = loop {
        let (status, order) = client
            .send(
                reqwest::Method::POST,
                "/api/v1/orders",
                Some(body.clone()),
                &headers,
            )
            .await;
        attempts += 1;
        if status == 503 && attempts < 60 {
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        }
        assert_eq!(status, 202, "{order}");
        break order;
    };
    let path = format!("/api/v1/orders/{}", id(&order));
    let payable = client
        .settle_every(
            &path,
            &[],
            interval,
            "the order is CONFIRMED with a checkout",
            |o| o["status"] == "CONFIRMED" && o["payment"]["checkout_url"].is_string(),
        )
        .await;
    (path, payable)
}

/// Places an order of one `product`; its path once it is CONFIRMED (with or without
/// a checkout yet).
async fn place_until_confirmed(client: &Client, product: &str) -> String {
    let (status, order) = client
        .post(
            "/api/v1/orders",
            json!({"lines": [{"product_id": product, "quantity": 1}]}),
        )
        .await;
    assert_eq!(status, 202, "{order}");
    let path = format!("/api/v1/orders/{}", id(&order));
    client
        .settle(&path, "the order is CONFIRMED", |o| {
            o["status"] == "CONFIRMED"
        })
        .await;
    path
}

/// The customer enters `card` on the order's checkout page; the provider's answer.
async fn pay(order: &Value, card: &str) -> (u16, Value) {
    let checkout = order["payment"]["checkout_url"]
        .as_str()
        .expect("checkout url");
    let response = reqwest::Client::new()
        .post(format!("{checkout}/pay"))
        .json(&json!({ "card_number": card }))
        .send()
        .await
        .expect("the provider answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The provider's sessions for the order's payment.
async fn sessions(stack: &Stack, order: &Value) -> Vec<Value> {
    let payment = order["payment"]["id"].as_str().expect("payment id");
    let url = format!(
        "{}/v1/checkout/sessions?reference={payment}",
        stack.provider
    );
    let sessions: Value = reqwest::get(url)
        .await
        .expect("the provider answers")
        .json()
        .await
        .expect("json");
    sessions["items"].as_array().expect("items").clone()
}

/// Of the provider's sessions for the order's payment: how many took money, and how
/// many of those were refunded.
async fn charges(stack: &Stack, order: &Value) -> (usize, usize) {
    let items = sessions(stack, order).await;
    let captured = items.iter().filter(|s| s["captured"] == true).count();
    let refunded = items.iter().filter(|s| s["status"] == "refunded").count();
    (captured, refunded)
}

/// The event types on the order's timeline.
async fn timeline(client: &Client, path: &str) -> Vec<String> {
    let (status, timeline) = client.get(&format!("{path}/timeline")).await;
    assert_eq!(status, 200, "{timeline}");
    timeline["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["event_type"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn orders_are_paid_declined_and_refunded_once_with_webhooks_duplicated_and_reordered() {
    let stack = stack(300, 5_000).await;
    let (client, _) = Client::customer(&stack.gateway, "payer@example.com").await;
    let (product, stock_before, price) = product_with(&client, 150).await;

    // Paid with the good card: PAID, charged once, stock still held.
    let (paid_path, order) = place_until_payable(&client, &product, 2).await;
    assert_eq!(order["payment"]["status"], "pending", "{order}");
    let (status, answer) = pay(&order, PAYS).await;
    assert_eq!(status, 200, "{answer}");
    let paid = client
        .settle(&paid_path, "the order is PAID", |o| o["status"] == "PAID")
        .await;
    assert_eq!(paid["payment"]["status"], "succeeded", "{paid}");
    assert_eq!(paid["total_cents"], 2 * price);
    assert_eq!(charges(&stack, &paid).await, (1, 0));
    assert_eq!(stock_of(&client, &product).await, stock_before - 2);

    // Declined: CANCELLED for payment_failed, stock given back once, nothing charged.
    let (declined_path, order) = place_until_payable(&client, &product, 3).await;
    let (status, answer) = pay(&order, DECLINED).await;
    assert!(status < 500, "{status} {answer}");
    let declined = client
        .settle(&declined_path, "the declined order is CANCELLED", |o| {
            o["status"] == "CANCELLED"
        })
        .await;
    assert_eq!(
        declined["cancellation_reason"], "payment_failed",
        "{declined}"
    );
    client
        .settle(
            &format!("/api/v1/products/{product}"),
            "the stock is back",
            |p| p["stock"] == stock_before - 2,
        )
        .await;
    assert_eq!(charges(&stack, &declined).await, (0, 0));

    // The PAID order cancelled: refunded once, stock given back once.
    let (status, cancelled) = client.post(&format!("{paid_path}/cancel"), json!({})).await;
    assert_eq!(status, 200, "{cancelled}");
    let refunded = client
        .settle(&paid_path, "the cancelled order shows its refund", |o| {
            o["refund"]["status"] == "succeeded"
        })
        .await;
    assert_eq!(refunded["status"], "CANCELLED");
    assert_eq!(charges(&stack, &refunded).await, (1, 1));
    client
        .settle(
            &format!("/api/v1/products/{product}"),
            "the stock is restored",
            |p| p["stock"] == stock_before,
        )
        .await;

    // A hundred orders paid at once, every webhook doubled and reordered: each PAID,
    // each charged exactly once.
    let mut placing = tokio::task::JoinSet::new();
    let client = std::sync::Arc::new(client);
    for _ in 0..100 {
        let (client, product) = (client.clone(), product.clone());
        placing.spawn(async move {
            let second = Duration::from_secs(1);
            let (path, order) = place_polling_every(&client, &product, 1, second).await;
            let (status, answer) = pay(&order, PAYS).await;
            assert_eq!(status, 200, "{answer}");
            path
        });
    }
    let paths = placing.join_all().await;
    for path in &paths {
        let order = client
            .settle(path, "each of the hundred is PAID", |o| {
                o["status"] == "PAID"
            })
            .await;
        assert_eq!(charges(&stack, &order).await, (1, 0), "{order}");
    }
    assert_eq!(stock_of(&client, &product).await, stock_before - 100);

    // Late duplicates change nothing: each order still shows one payment, PAID.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let events = timeline(&client, &paths[0]).await;
    let succeeded = events.iter().filter(|e| *e == "payment.succeeded").count();
    assert_eq!(succeeded, 1, "{events:?}");
}

#[tokio::test]
async fn an_unpaid_order_expires_and_a_charge_that_completes_after_expiry_is_refunded() {
    // Checkouts close 6 s after CONFIRMED and orders expire 2 s later; the delayed card
    // captures 12 s after it is entered, so its charge lands on an order that has
    // already EXPIRED.
    let stack = stack(6, 12_000).await;
    let (client, _) = Client::customer(&stack.gateway, "late@example.com").await;
    let (product, stock_before, _) = product_with(&client, 10).await;

    // Never paid: EXPIRED, its stock given back once, the checkout voided.
    let (unpaid_path, unpaid) = place_until_payable(&client, &product, 1).await;
    // Paid with the slow card: processing at the provider when the order expires.
    let (late_path, late) = place_until_payable(&client, &product, 2).await;
    let (status, answer) = pay(&late, DELAYED).await;
    assert!(status < 300, "{status} {answer}");

    let expired = client
        .settle(&unpaid_path, "the unpaid order EXPIRED", |o| {
            o["status"] == "EXPIRED"
        })
        .await;
    assert_eq!(expired["cancellation_reason"], "expired", "{expired}");
    let (status, _) = pay(&unpaid, PAYS).await;
    assert!(
        (400..500).contains(&status),
        "a voided checkout cannot be paid: {status}"
    );

    let refunded = client
        .settle(&late_path, "the late charge is refunded", |o| {
            o["refund"]["status"] == "succeeded"
        })
        .await;
    assert_eq!(
        refunded["status"], "EXPIRED",
        "the order stays EXPIRED: {refunded}"
    );
    assert_eq!(charges(&stack, &refunded).await, (1, 1));
    assert_eq!(charges(&stack, &expired).await, (0, 0));
    client
        .settle(
            &format!("/api/v1/products/{product}"),
            "both orders' stock is back",
            |p| p["stock"] == stock_before,
        )
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        stock_of(&client, &product).await,
        stock_before,
        "released once"
    );
}

#[tokio::test]
async fn orders_wait_in_confirmed_while_payment_service_is_down_then_complete() {
    let mut stack = stack(300, 5_000).await;
    let (client, _) = Client::customer(&stack.gateway, "patient@example.com").await;
    let (product, _, _) = product_with(&client, 10).await;

    stack.kill("payment-service");
    let path = place_until_confirmed(&client, &product).await;
    tokio::time::sleep(Duration::from_secs(30)).await;
    let (_, waiting) = client.get(&path).await;
    assert_eq!(waiting["status"], "CONFIRMED", "{waiting}");
    assert!(waiting["payment"].is_null(), "{waiting}");

    stack
        .launch("payment-service")
        .await
        .expect("payment-service restarts");
    let payable = client
        .settle(&path, "the checkout appears", |o| {
            o["payment"]["checkout_url"].is_string()
        })
        .await;
    let (status, answer) = pay(&payable, PAYS).await;
    assert_eq!(status, 200, "{answer}");
    let paid = client
        .settle(&path, "the order is PAID", |o| o["status"] == "PAID")
        .await;
    assert_eq!(charges(&stack, &paid).await, (1, 0));
}

#[tokio::test]
async fn a_provider_that_stops_answering_is_retried_and_charges_once() {
    let env = comanda_testkit::TestEnv::new().await;
    let options = Options {
        env: vec![(
            "payment-service".into(),
            "COMANDA__PROVIDER__REQUEST_TIMEOUT_MS".into(),
            "1000".into(),
        )],
        log_dir: None,
        ..Options::default()
    };
    let stack = Stack::start_with(env, options).await;
    let (client, _) = Client::customer(&stack.gateway, "retry@example.com").await;
    let (product, _, _) = product_with(&client, 10).await;

    // Frozen, not gone: connections are accepted and never answered.
    stack.pause("sandbox-provider");
    let path = place_until_confirmed(&client, &product).await;
    // Several create calls time out meanwhile, each retried with the same key.
    tokio::time::sleep(Duration::from_secs(6)).await;
    stack.resume("sandbox-provider");

    let payable = client
        .settle(&path, "the checkout appears", |o| {
            o["payment"]["checkout_url"].is_string()
        })
        .await;
    assert_eq!(
        sessions(&stack, &payable).await.len(),
        1,
        "one session at the provider"
    );
    let (status, answer) = pay(&payable, PAYS).await;
    assert_eq!(status, 200, "{answer}");
    let paid = client
        .settle(&path, "the order is PAID", |o| o["status"] == "PAID")
        .await;
    assert_eq!(charges(&stack, &paid).await, (1, 0));
}
