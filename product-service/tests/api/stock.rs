//! Stock that a stale client cannot overwrite (issue #12 item 3): stock changes by
//! deltas (`POST .../stock-adjustments`) or by a PUT carrying `If-Match`; a plain PUT
//! changes every other field but never the stock.
//!
//! Reservations and releases are driven by `order.created.pending` / `order.cancelled`
//! sent straight to Kafka, as order-service's relay would.

use std::time::Duration;

use comanda_kit::auth::Role;
use comanda_outbox::{topics, Envelope};
use comanda_testkit::eventually;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{id_of, product, spawn_app, token, App};

const WITHIN: Duration = Duration::from_secs(30);

fn pending(order_id: Uuid, product_id: Uuid, quantity: i32) -> Envelope {
    Envelope::new(
        topics::ORDER_CREATED_PENDING,
        1,
        "order-service",
        order_id.to_string(),
        json!({"order_id": order_id, "lines": [{"product_id": product_id, "quantity": quantity}]}),
    )
}

fn cancelled(order_id: Uuid) -> Envelope {
    Envelope::new(
        topics::ORDER_CANCELLED,
        1,
        "order-service",
        order_id.to_string(),
        json!({"order_id": order_id}),
    )
}

/// Waits for the reply of `event_type` to `order_id` in the outbox.
async fn replied(app: &App, event_type: &str, order_id: Uuid) {
    let key = order_id.to_string();
    eventually(WITHIN, event_type, || async {
        app.count(
            "SELECT count(*) FROM outbox WHERE event_type = $1 AND kafka_key = $2",
            &[&event_type, &key],
        )
        .await
            == 1
    })
    .await;
}

/// How many `product.upserted` events product `id` has in the outbox.
async fn upserts(app: &App, id: Uuid) -> i64 {
    app.count(
        "SELECT count(*) FROM outbox WHERE event_type = 'product.upserted' AND kafka_key = $1",
        &[&id.to_string()],
    )
    .await
}

/// `GET /api/v1/products/{id}`: the JSON and the ETag.
async fn fetch(app: &App, id: Uuid) -> (Value, Option<String>) {
    let res = app
        .call(
            Method::GET,
            &format!("/api/v1/products/{id}"),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let etag = res
        .headers()
        .get("etag")
        .map(|v| v.to_str().expect("ascii etag").to_owned());
    (res.json().await.expect("product JSON"), etag)
}

/// `PUT /api/v1/products/{id}` of `body` as admin, with `if_match` when given.
async fn put(app: &App, id: Uuid, body: &Value, if_match: Option<&str>) -> reqwest::Response {
    let mut req = app
        .http
        .client
        .put(format!("{}/api/v1/products/{id}", app.http.address))
        .bearer_auth(&app.admin)
        .json(body);
    if let Some(tag) = if_match {
        req = req.header("If-Match", tag);
    }
    req.send().await.expect("request to product-service")
}

/// The fields of a product JSON a client sends back in a PUT.
fn writable(product: &Value) -> Value {
    json!({
        "sku": product["sku"], "name": product["name"], "description": product["description"],
        "category": product["category"], "price_cents": product["price_cents"],
        "stock": product["stock"], "active": product["active"],
    })
}

#[tokio::test]
async fn a_stale_stock_written_back_during_an_order_does_not_survive_its_cancel() {
    let app = spawn_app().await;
    let a = id_of(&app.create(product("A", 10)).await);
    // An admin's client reads the product: stock 10.
    let (read, _) = fetch(&app, a).await;
    assert_eq!(read["stock"], 10);
    // An order of 3 is reserved (confirmed): 7 on hand.
    let order = Uuid::now_v7();
    app.send(topics::ORDER_CREATED_PENDING, &pending(order, a, 3))
        .await;
    replied(&app, topics::STOCK_RESERVED, order).await;
    assert_eq!(app.stock(a).await, 7);
    // The client writes what it read back (say, to fix a typo in the name)...
    let mut stale = writable(&read);
    stale["name"] = json!("Dish A, fixed");
    let written = put(&app, a, &stale, None).await;
    let written_status = written.status().as_u16();
    let written_body: Value = written.json().await.expect("JSON");
    // ...and the order is cancelled: its 3 units come back.
    app.send(topics::ORDER_CANCELLED, &cancelled(order)).await;
    replied(&app, topics::STOCK_RELEASED, order).await;

    assert_eq!(
        app.stock(a).await,
        10,
        "stock came from nothing: the stale write-back answered {written_status} {written_body}"
    );
    assert_eq!(written_status, 428, "{written_body}");
    assert_eq!(written_body["code"], "if_match_required");
}

#[tokio::test]
async fn a_put_with_a_stale_if_match_is_refused_with_412_and_writes_nothing() {
    let app = spawn_app().await;
    let a = id_of(&app.create(product("A", 10)).await);
    let (read, tag) = fetch(&app, a).await;
    let tag = tag.expect("GET answers an ETag");
    assert_eq!(tag, format!("\"{}\"", read["version"]));
    // An order takes 3 after the read: the product is at a new version.
    let order = Uuid::now_v7();
    app.send(topics::ORDER_CREATED_PENDING, &pending(order, a, 3))
        .await;
    replied(&app, topics::STOCK_RESERVED, order).await;

    let mut stale = writable(&read);
    stale["name"] = json!("Renamed late");
    let res = put(&app, a, &stale, Some(&tag)).await;
    assert_eq!(res.status().as_u16(), 412);
    assert_eq!(
        res.headers()["content-type"].to_str().expect("ascii"),
        "application/problem+json"
    );
    let problem: Value = res.json().await.expect("problem");
    assert_eq!(problem["code"], "version_mismatch");
    let (now, fresh) = fetch(&app, a).await;
    assert_eq!(now["name"], "Dish A", "nothing written");
    assert_eq!(now["stock"], 7);
    assert_eq!(upserts(&app, a).await, 1, "only the creation is announced");
    let history = "SELECT count(*) FROM stock_adjustments";
    assert_eq!(app.count(history, &[]).await, 0);

    // With the version read now, the count is set and recorded as a change of +5.
    let fresh = fresh.expect("ETag");
    assert_ne!(fresh, tag);
    let mut body = writable(&now);
    body["stock"] = json!(12);
    let res = put(&app, a, &body, Some(&fresh)).await;
    assert_eq!(res.status().as_u16(), 200);
    let newer = res.headers()["etag"].to_str().expect("ascii").to_owned();
    assert_ne!(newer, fresh);
    assert_eq!(app.stock(a).await, 12);
    assert_eq!(upserts(&app, a).await, 2);
    let row = app
        .db()
        .await
        .query_one(
            "SELECT kind, delta, stock_after FROM stock_adjustments",
            &[],
        )
        .await
        .expect("one history row");
    assert_eq!(row.get::<_, String>(0), "replace");
    assert_eq!(row.get::<_, i32>(1), 5);
    assert_eq!(row.get::<_, i32>(2), 12);
    // The same tag again is stale now, even for a PUT that leaves the stock alone.
    let res = put(&app, a, &body, Some(&fresh)).await;
    assert_eq!(res.status().as_u16(), 412);
    let res = put(&app, a, &body, Some("7")).await;
    assert_eq!(res.status().as_u16(), 400);
    let problem: Value = res.json().await.expect("problem");
    assert_eq!(problem["code"], "invalid_if_match");
    assert_eq!(upserts(&app, a).await, 2);
}

/// An entity tag may hold a comma (RFC 9110 §8.8.3: `etagc` is any visible character but
/// `"`), so the list is split at commas between tags, never inside one. schemathesis sent
/// `W/"g7{VBs>b/$,AIU}wrK",W/"{P"`, which the document allows, and got a 400.
#[tokio::test]
async fn an_if_match_tag_holding_a_comma_is_one_tag() {
    let app = spawn_app().await;
    let a = id_of(&app.create(product("A", 10)).await);
    let (read, tag) = fetch(&app, a).await;
    let tag = tag.expect("GET answers an ETag");
    let mut body = writable(&read);
    body["name"] = json!("Renamed");
    // Stale tags with commas inside: a precondition that fails, not a malformed header.
    for stale in [r#""1,2""#, r#"W/"a,b",W/"{P""#, r#""x,", ",y""#] {
        let res = put(&app, a, &body, Some(stale)).await;
        let status = res.status().as_u16();
        let problem: Value = res.json().await.expect("problem");
        assert_eq!(
            (status, problem["code"].as_str()),
            (412, Some("version_mismatch")),
            "If-Match: {stale}"
        );
    }
    // The current tag among them: the PUT applies.
    let res = put(&app, a, &body, Some(&format!(r#""9,9", {tag}"#))).await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(fetch(&app, a).await.0["name"], "Renamed");
    // An unclosed quote or a bare token is still malformed.
    for broken in [r#""1,2"#, r#""1", 2"#] {
        let res = put(&app, a, &body, Some(broken)).await;
        let problem: Value = res.json().await.expect("problem");
        assert_eq!(problem["code"], "invalid_if_match", "If-Match: {broken}");
    }
}

#[tokio::test]
async fn a_plain_put_changes_every_other_field_and_keeps_the_stock_orders_moved() {
    let app = spawn_app().await;
    let a = id_of(&app.create(product("A", 10)).await);
    let order = Uuid::now_v7();
    app.send(topics::ORDER_CREATED_PENDING, &pending(order, a, 3))
        .await;
    replied(&app, topics::STOCK_RESERVED, order).await;

    // No stock in the body: kept.
    let mut body = product("A", 0);
    body.as_object_mut().expect("object").remove("stock");
    body["price_cents"] = json!(1250);
    let res = put(&app, a, &body, None).await;
    assert_eq!(res.status().as_u16(), 200);
    // The current count in the body: no change, so no If-Match needed either.
    body["stock"] = json!(7);
    body["name"] = json!("Dish A, again");
    let res = put(&app, a, &body, None).await;
    assert_eq!(res.status().as_u16(), 200);
    let product: Value = res.json().await.expect("product");
    assert_eq!(product["stock"], 7);
    assert_eq!(product["price_cents"], 1250);
    assert_eq!(product["name"], "Dish A, again");
    assert_eq!(upserts(&app, a).await, 3);
    assert_eq!(
        app.count("SELECT count(*) FROM stock_adjustments", &[])
            .await,
        0
    );
}

#[tokio::test]
async fn a_stock_delta_is_recorded_with_who_and_when_and_one_below_zero_writes_nothing() {
    let app = spawn_app().await;
    let a = id_of(&app.create(product("A", 5)).await);
    let path = format!("/api/v1/products/{a}/stock-adjustments");
    let admin_id = Uuid::now_v7();
    let admin = token(admin_id, &[Role::Admin]);
    let customer = token(Uuid::now_v7(), &[Role::User]);
    let take = |delta: i32| json!({"delta": delta, "reason": " two broken "});
    let res = app
        .call(Method::POST, &path, Some(&customer), Some(take(-2)))
        .await;
    assert_eq!(res.status().as_u16(), 403);
    let res = app.call(Method::POST, &path, None, Some(take(-2))).await;
    assert_eq!(res.status().as_u16(), 401);

    let res = app
        .call(Method::POST, &path, Some(&admin), Some(take(-2)))
        .await;
    assert_eq!(res.status().as_u16(), 201);
    let etag = res.headers()["etag"].to_str().expect("ascii").to_owned();
    let adjusted: Value = res.json().await.expect("JSON");
    assert_eq!(adjusted["product"]["stock"], 3);
    assert_eq!(etag, format!("\"{}\"", adjusted["product"]["version"]));
    assert_eq!(adjusted["adjustment"]["delta"], -2);
    assert_eq!(adjusted["adjustment"]["reason"], "two broken");
    assert_eq!(app.stock(a).await, 3);
    let row = app
        .db()
        .await
        .query_one(
            "SELECT product_id, kind, delta, stock_after, reason, adjusted_by, \
             now() - adjusted_at < interval '1 minute' FROM stock_adjustments",
            &[],
        )
        .await
        .expect("one history row");
    assert_eq!(row.get::<_, Uuid>(0), a);
    assert_eq!(row.get::<_, String>(1), "adjustment");
    assert_eq!(row.get::<_, i32>(2), -2);
    assert_eq!(row.get::<_, i32>(3), 3);
    assert_eq!(row.get::<_, String>(4), "two broken");
    assert_eq!(row.get::<_, Uuid>(5), admin_id, "who: the token's subject");
    assert!(row.get::<_, bool>(6), "when: now");
    // Announced in the same transaction, with the new count.
    assert_eq!(upserts(&app, a).await, 2);
    let announced: Value = app
        .db()
        .await
        .query_one(
            "SELECT payload FROM outbox WHERE event_type = 'product.upserted' ORDER BY id DESC LIMIT 1",
            &[],
        )
        .await
        .expect("event")
        .get(0);
    assert_eq!(announced["data"]["stock"], 3);

    // Taking 4 of 3: refused, nothing written.
    let res = app
        .call(Method::POST, &path, Some(&admin), Some(take(-4)))
        .await;
    assert_eq!(res.status().as_u16(), 409);
    assert_eq!(
        res.headers()["content-type"].to_str().expect("ascii"),
        "application/problem+json"
    );
    let problem: Value = res.json().await.expect("problem");
    assert_eq!(problem["code"], "insufficient_stock");
    assert_eq!(app.stock(a).await, 3);
    assert_eq!(
        app.count("SELECT count(*) FROM stock_adjustments", &[])
            .await,
        1
    );
    assert_eq!(upserts(&app, a).await, 2);

    let res = app
        .call(Method::POST, &path, Some(&admin), Some(take(0)))
        .await;
    assert_eq!(res.status().as_u16(), 400);
    let missing = format!("/api/v1/products/{}/stock-adjustments", Uuid::now_v7());
    let res = app
        .call(Method::POST, &missing, Some(&admin), Some(take(1)))
        .await;
    assert_eq!(res.status().as_u16(), 404);

    let history: Value = app
        .call(Method::GET, &path, Some(&admin), None)
        .await
        .json()
        .await
        .expect("page");
    assert_eq!(history["total"], 1, "{history}");
    assert_eq!(history["items"][0]["adjusted_by"], admin_id.to_string());
}

#[tokio::test]
async fn a_delta_made_while_an_order_holds_stock_survives_the_orders_cancel() {
    let app = spawn_app().await;
    let a = id_of(&app.create(product("A", 10)).await);
    let order = Uuid::now_v7();
    app.send(topics::ORDER_CREATED_PENDING, &pending(order, a, 3))
        .await;
    replied(&app, topics::STOCK_RESERVED, order).await;
    let res = app
        .call(
            Method::POST,
            &format!("/api/v1/products/{a}/stock-adjustments"),
            Some(&app.admin),
            Some(json!({"delta": 5, "reason": "delivery"})),
        )
        .await;
    assert_eq!(res.status().as_u16(), 201);
    assert_eq!(app.stock(a).await, 12);
    app.send(topics::ORDER_CANCELLED, &cancelled(order)).await;
    replied(&app, topics::STOCK_RELEASED, order).await;
    assert_eq!(
        app.stock(a).await,
        15,
        "10 + 5 delivered; the order's 3 back"
    );
}
