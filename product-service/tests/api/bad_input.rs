//! Bad input is a 400 problem, never a 500: control characters in text, prices and
//! stock beyond their bounds. Inactive products are hidden from everyone but admins.

use comanda_kit::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{id_of, product, spawn_app, token};

/// Status and `code` of a problem response; asserts the problem media type.
async fn problem(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json", "status {status}");
    let body: Value = res.json().await.expect("problem body");
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn control_characters_in_the_listing_filters_are_a_400_not_a_500() {
    let app = spawn_app().await;
    app.create(product("F1", 1)).await;
    for query in [
        "name=%00",
        "name=Dish%00",
        "category=%00",
        "name=%1B%5B31m",
        "category=mains%0A",
        "name=%C2%85",
    ] {
        let res = app
            .call(
                Method::GET,
                &format!("/api/v1/products?{query}"),
                None,
                None,
            )
            .await;
        assert_eq!(
            problem(res).await,
            (400, "invalid_query".to_owned()),
            "{query}"
        );
    }
    // Ordinary filters still work, symbols included.
    let page: Value = app
        .call(Method::GET, "/api/v1/products?name=dish%20f", None, None)
        .await
        .json()
        .await
        .expect("page");
    assert_eq!(page["total"], 1, "{page}");
}

#[tokio::test]
async fn products_whose_text_holds_control_characters_are_refused_and_nothing_is_written() {
    let app = spawn_app().await;
    let cases = [
        ("name", "Pizza\u{0}"),
        ("name", "\u{1b}[2JPizza"),
        ("name", "Piz\nza"),
        ("category", "mains\u{0}"),
        ("description", "tasty\u{0}"),
        ("description", "red \u{1b}[31m"),
    ];
    for (field, text) in cases {
        let mut body = product("CTL-1", 1);
        body[field] = json!(text);
        let res = app.post_product(body).await;
        assert_eq!(
            problem(res).await,
            (400, "invalid_json".to_owned()),
            "{field}: {text:?}"
        );
    }
    assert_eq!(app.count("SELECT count(*) FROM products", &[]).await, 0);
    assert_eq!(app.count("SELECT count(*) FROM outbox", &[]).await, 0);

    // A replace is parsed the same way and leaves the product as it was.
    let id = id_of(&app.create(product("CTL-2", 1)).await);
    let mut body = product("CTL-2", 1);
    body["name"] = json!("Renamed\u{0}");
    let res = app
        .call(
            Method::PUT,
            &format!("/api/v1/products/{id}"),
            Some(&app.admin),
            Some(body),
        )
        .await;
    assert_eq!(problem(res).await, (400, "invalid_json".to_owned()));
    let name: String = app
        .db()
        .await
        .query_one("SELECT name FROM products WHERE id = $1", &[&id])
        .await
        .expect("row")
        .get(0);
    assert_eq!(name, "Dish CTL-2");

    // A description is free text: line breaks and tabs are kept.
    let mut body = product("CTL-3", 1);
    body["description"] = json!("Tomato,\n\tbasil.\r\n");
    let created = app.create(body).await;
    assert_eq!(created["description"], "Tomato,\n\tbasil.\r\n");
}

#[tokio::test]
async fn prices_and_stock_beyond_their_bounds_are_refused_and_nothing_is_written() {
    let app = spawn_app().await;
    let max_price = product_service::domain::product::MAX_PRICE_CENTS;
    let max_stock = product_service::domain::product::MAX_STOCK;
    for (field, value) in [
        ("price_cents", json!(max_price + 1)),
        ("price_cents", json!(i64::MAX)),
        ("stock", json!(max_stock + 1)),
        ("stock", json!(i32::MAX)),
    ] {
        let mut body = product("BIG-1", 1);
        body[field] = value.clone();
        let res = app.post_product(body).await;
        assert_eq!(
            problem(res).await,
            (400, "invalid_product".to_owned()),
            "{field} = {value}"
        );
    }
    assert_eq!(app.count("SELECT count(*) FROM products", &[]).await, 0);
    assert_eq!(app.count("SELECT count(*) FROM outbox", &[]).await, 0);

    // The bounds themselves are accepted.
    let mut body = product("BIG-2", max_stock);
    body["price_cents"] = json!(max_price);
    let created = app.create(body).await;
    assert_eq!(created["price_cents"], max_price);
    assert_eq!(created["stock"], max_stock);
}

#[tokio::test]
async fn an_inactive_product_is_not_found_except_by_an_admin() {
    let app = spawn_app().await;
    let mut hidden = product("OFF-1", 3);
    hidden["active"] = json!(false);
    let id = id_of(&app.create(hidden).await);
    let path = format!("/api/v1/products/{id}");

    let anonymous = app.call(Method::GET, &path, None, None).await;
    assert_eq!(problem(anonymous).await, (404, "not_found".to_owned()));
    let user = token(Uuid::now_v7(), &[Role::User]);
    let customer = app.call(Method::GET, &path, Some(&user), None).await;
    assert_eq!(problem(customer).await, (404, "not_found".to_owned()));
    let forged = app
        .call(Method::GET, &path, Some("not-a-token"), None)
        .await;
    assert_eq!(problem(forged).await, (404, "not_found".to_owned()));

    let admin = app.call(Method::GET, &path, Some(&app.admin), None).await;
    assert_eq!(admin.status().as_u16(), 200);
    let body: Value = admin.json().await.expect("product");
    assert_eq!(body["sku"], "OFF-1");
    assert_eq!(body["active"], false);

    // An active product stays public.
    let shown = id_of(&app.create(product("ON-1", 3)).await);
    let res = app
        .call(
            Method::GET,
            &format!("/api/v1/products/{shown}"),
            None,
            None,
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
}
