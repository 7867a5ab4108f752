//! The catalogue endpoints: admin-only writes announced in the outbox, public reads.

use comanda_kit::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{id_of, product, spawn_app, token};

#[tokio::test]
async fn only_admins_create_products_and_each_creation_is_announced() {
    let app = spawn_app().await;
    let anonymous = app
        .call(
            Method::POST,
            "/api/v1/products",
            None,
            Some(product("A-1", 5)),
        )
        .await;
    assert_eq!(anonymous.status().as_u16(), 401);
    let user = token(Uuid::now_v7(), &[Role::User]);
    let customer = app
        .call(
            Method::POST,
            "/api/v1/products",
            Some(&user),
            Some(product("A-1", 5)),
        )
        .await;
    assert_eq!(customer.status().as_u16(), 403);
    assert_eq!(app.count("SELECT count(*) FROM products", &[]).await, 0);

    let created = app.create(product("a-1", 5)).await;
    assert_eq!(created["sku"], "A-1");
    assert_eq!(created["stock"], 5);
    assert_eq!(created["active"], true);
    let id = id_of(&created);
    let announced = app
        .count(
            "SELECT count(*) FROM outbox WHERE event_type = 'product.upserted' AND kafka_key = $1",
            &[&id.to_string()],
        )
        .await;
    assert_eq!(announced, 1);
}

#[tokio::test]
async fn a_taken_sku_is_a_conflict_and_invalid_products_are_refused() {
    let app = spawn_app().await;
    app.create(product("DUP", 1)).await;
    let again = app
        .call(
            Method::POST,
            "/api/v1/products",
            Some(&app.admin),
            Some(product("dup", 2)),
        )
        .await;
    assert_eq!(again.status().as_u16(), 409);
    let body: Value = again.json().await.expect("problem");
    assert_eq!(body["code"], "sku_taken");

    let mut negative = product("NEG", 1);
    negative["price_cents"] = json!(-1);
    let res = app
        .call(
            Method::POST,
            "/api/v1/products",
            Some(&app.admin),
            Some(negative),
        )
        .await;
    assert_eq!(res.status().as_u16(), 400);
    assert_eq!(app.count("SELECT count(*) FROM products", &[]).await, 1);
    assert_eq!(app.count("SELECT count(*) FROM outbox", &[]).await, 1);
}

#[tokio::test]
async fn the_public_listing_paginates_filters_and_hides_inactive_products() {
    let app = spawn_app().await;
    for sku in ["P1", "P2", "P3"] {
        app.create(product(sku, 1)).await;
    }
    let mut lemonade = product("L1", 1);
    lemonade["name"] = json!("Lemonade");
    lemonade["category"] = json!("Drinks");
    app.create(lemonade).await;
    let mut hidden = product("H1", 1);
    hidden["active"] = json!(false);
    app.create(hidden).await;

    let page: Value = app
        .call(Method::GET, "/api/v1/products?page=2&size=2", None, None)
        .await
        .json()
        .await
        .expect("page");
    assert_eq!(page["total"], 4, "{page}");
    assert_eq!(page["page"], 2);
    assert_eq!(page["items"].as_array().expect("items").len(), 2);

    let capped: Value = app
        .call(Method::GET, "/api/v1/products?size=100000", None, None)
        .await
        .json()
        .await
        .expect("page");
    assert_eq!(capped["size"], 100);

    let drinks: Value = app
        .call(Method::GET, "/api/v1/products?category=drinks", None, None)
        .await
        .json()
        .await
        .expect("page");
    assert_eq!(drinks["total"], 1);
    let by_name: Value = app
        .call(Method::GET, "/api/v1/products?name=LEMON", None, None)
        .await
        .json()
        .await
        .expect("page");
    assert_eq!(by_name["items"][0]["sku"], "L1");
}

#[tokio::test]
async fn replacing_a_product_changes_every_field_and_is_announced() {
    let app = spawn_app().await;
    let created = app.create(product("R1", 1)).await;
    let id = id_of(&created);
    let mut body = product("R1", 7);
    body["price_cents"] = json!(1550);
    body["name"] = json!("Renamed");
    // A new stock count needs the version it replaces (see stock.rs).
    let res = app
        .http
        .client
        .put(format!("{}/api/v1/products/{id}", app.http.address))
        .bearer_auth(&app.admin)
        .header("If-Match", format!("\"{}\"", created["version"]))
        .json(&body)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 200);
    let row = app
        .db()
        .await
        .query_one(
            "SELECT name, price_cents, stock FROM products WHERE id = $1",
            &[&id],
        )
        .await
        .expect("row");
    assert_eq!(row.get::<_, String>(0), "Renamed");
    assert_eq!(row.get::<_, i64>(1), 1550);
    assert_eq!(row.get::<_, i32>(2), 7);
    let announced = app
        .count(
            "SELECT count(*) FROM outbox WHERE event_type = 'product.upserted'",
            &[],
        )
        .await;
    assert_eq!(announced, 2);

    let missing = app
        .call(
            Method::PUT,
            &format!("/api/v1/products/{}", Uuid::now_v7()),
            Some(&app.admin),
            Some(product("R2", 1)),
        )
        .await;
    assert_eq!(missing.status().as_u16(), 404);
}

#[tokio::test]
async fn deleting_a_product_removes_it_once_and_is_announced() {
    let app = spawn_app().await;
    let id = id_of(&app.create(product("D1", 1)).await);
    let path = format!("/api/v1/products/{id}");
    let res = app
        .call(Method::DELETE, &path, Some(&app.admin), None)
        .await;
    assert_eq!(res.status().as_u16(), 204);
    assert_eq!(
        app.call(Method::GET, &path, None, None)
            .await
            .status()
            .as_u16(),
        404
    );
    let again = app
        .call(Method::DELETE, &path, Some(&app.admin), None)
        .await;
    assert_eq!(again.status().as_u16(), 404);
    let deleted = app
        .count(
            "SELECT count(*) FROM outbox WHERE event_type = 'product.deleted' AND kafka_key = $1",
            &[&id.to_string()],
        )
        .await;
    assert_eq!(deleted, 1);
}
