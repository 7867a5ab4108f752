//! A product database that turns read-only (a failover, a fenced full disk) never
//! dead-letters a stock request: it waits, says so on `/ready`, and reserves once the
//! database takes writes again.

use std::time::Duration;

use comanda_outbox::{topics, Envelope};
use comanda_testkit::{eventually, faults};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{id_of, product, spawn_app, App};

async fn ready_status(app: &App) -> (u16, String) {
    let res = app.call(reqwest::Method::GET, "/ready", None, None).await;
    let status = res.status().as_u16();
    (status, res.text().await.expect("body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_database_never_dead_letters_a_stock_request_and_it_is_reserved_once_writable()
{
    let app = spawn_app().await;
    let dish = id_of(&app.create(product("RO", 3)).await);
    let url = app.http.database_url.clone().expect("database url");
    faults::set_read_only(&url, true).await;
    let order = Uuid::now_v7();
    let request = Envelope::new(
        topics::ORDER_CREATED_PENDING,
        1,
        "order-service",
        order.to_string(),
        json!({"order_id": order, "lines": [{"product_id": dish, "quantity": 2}]}),
    );
    app.send(topics::ORDER_CREATED_PENDING, &request).await;

    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(app.env.dead_letters().await, 0, "nothing dead-lettered");
    let (status, body) = ready_status(&app).await;
    assert_eq!(status, 503, "/ready reports the stalled consumer: {body}");
    // The stalled consumer is named; the database's error text stays in the log.
    assert!(
        body.contains("inbox:") && body.contains("stalled"),
        "{body}"
    );

    faults::set_read_only(&url, false).await;
    eventually(Duration::from_secs(30), "the order is reserved", || async {
        app.reservation(order).await.as_deref() == Some("RESERVED")
    })
    .await;
    assert_eq!(app.stock(dish).await, 1);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM outbox WHERE event_type = $1 AND kafka_key = $2",
            &[&topics::STOCK_RESERVED, &order.to_string()],
        )
        .await,
        1
    );
    eventually(Duration::from_secs(10), "/ready is green again", || async {
        ready_status(&app).await.0 == 200
    })
    .await;
    assert_eq!(app.env.dead_letters().await, 0, "nothing dead-lettered");
}
