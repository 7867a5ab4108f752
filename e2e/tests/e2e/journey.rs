//! A customer's whole journey, through the gateway only.

use std::time::Duration;

use serde_json::json;

use e2e::stack::Stack;

use crate::client::{id, Client};

#[tokio::test]
async fn a_customer_registers_orders_is_confirmed_and_rejected_and_a_cancel_restores_the_stock() {
    let stack = Stack::start().await;
    let mut client = Client::new(&stack.gateway);

    // Registration: PENDING until user-service's answer comes back through Kafka.
    let (status, account) = client
        .post(
            "/api/v1/auth/register",
            json!({"email": "ada@example.com", "password": "a long enough secret", "full_name": "Ada Lovelace"}),
        )
        .await;
    assert_eq!(status, 202, "{account}");
    assert_eq!(account["status"], "PENDING");
    let account_id = id(&account);
    let poll = account["poll_token"]
        .as_str()
        .expect("poll token")
        .to_owned();
    let account_path = format!("/api/v1/auth/accounts/{account_id}");
    let headers = [("x-poll-token", poll.as_str())];
    client
        .settle_with(&account_path, &headers, "the account is ACTIVE", |a| {
            a["status"] == "ACTIVE"
        })
        .await;

    // Login, then the profile user-service created under the same id.
    let (status, tokens) = client
        .post(
            "/api/v1/auth/login",
            json!({"email": "ada@example.com", "password": "a long enough secret"}),
        )
        .await;
    assert_eq!(status, 200, "{tokens}");
    client.bearer = Some(
        tokens["access_token"]
            .as_str()
            .expect("access token")
            .to_owned(),
    );
    let (status, me) = client.get("/api/v1/users/me").await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["id"], account_id.as_str());

    // A product of the dev seed, and its stock before any order.
    let (status, products) = client.get("/api/v1/products?size=10").await;
    assert_eq!(status, 200, "{products}");
    let product = products["items"]
        .as_array()
        .and_then(|items| {
            items
                .iter()
                .find(|p| p["stock"].as_i64().is_some_and(|s| s >= 2))
        })
        .expect("a seeded product in stock")
        .clone();
    let product_path = format!("/api/v1/products/{}", id(&product));
    let stock_before = product["stock"].as_i64().expect("stock");
    let price = product["price_cents"].as_i64().expect("price");

    // An order stock can serve: CONFIRMED, priced, stock taken.
    let (status, order) = client
        .post(
            "/api/v1/orders",
            json!({"lines": [{"product_id": id(&product), "quantity": 2}]}),
        )
        .await;
    assert_eq!(status, 202, "{order}");
    assert_eq!(order["status"], "PENDING");
    let served_path = format!("/api/v1/orders/{}", id(&order));
    let served = client
        .settle(&served_path, "the order is decided", |o| {
            o["status"] != "PENDING"
        })
        .await;
    assert_eq!(served["status"], "CONFIRMED", "{served}");
    assert_eq!(served["total_cents"], 2 * price);
    assert_eq!(client.get(&product_path).await.1["stock"], stock_before - 2);

    // An order it cannot: REJECTED with the shortfall, stock untouched.
    let (status, order) = client
        .post(
            "/api/v1/orders",
            json!({"lines": [{"product_id": id(&product), "quantity": 1000}]}),
        )
        .await;
    assert_eq!(status, 202, "{order}");
    let refused = client
        .settle(
            &format!("/api/v1/orders/{}", id(&order)),
            "the big order is decided",
            |o| o["status"] != "PENDING",
        )
        .await;
    assert_eq!(refused["status"], "REJECTED", "{refused}");
    assert_eq!(refused["shortfalls"][0]["requested"], 1000);
    assert_eq!(refused["shortfalls"][0]["available"], stock_before - 2);
    assert_eq!(client.get(&product_path).await.1["stock"], stock_before - 2);

    // Cancel the confirmed one: the compensation gives the stock back, once.
    let (status, cancelled) = client
        .post(&format!("{served_path}/cancel"), json!({}))
        .await;
    assert_eq!(status, 200, "{cancelled}");
    client
        .settle(&product_path, "the stock is restored", |p| {
            p["stock"] == stock_before
        })
        .await;
    let timeline = client
        .settle(
            &format!("{served_path}/timeline"),
            "the release is on the timeline",
            |t| {
                t["events"].as_array().is_some_and(|e| {
                    e.iter()
                        .any(|e| e["event_type"] == "inventory.stock.released")
                })
            },
        )
        .await;
    let types: Vec<&str> = timeline["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["event_type"].as_str().expect("type"))
        // payment-service's checkout may be made before or after the cancel.
        .filter(|t| *t != "payment.created")
        .collect();
    assert_eq!(
        types,
        [
            "order.created.pending",
            "inventory.stock.reserved",
            "payment.requested",
            "order.cancelled",
            "inventory.stock.released"
        ]
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        client.get(&product_path).await.1["stock"],
        stock_before,
        "released exactly once"
    );
}
