//! Placing, reading, listing orders and their timelines.

use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{customer, order_body, Saga};

#[tokio::test]
async fn invalid_orders_are_refused_and_nothing_is_stored() {
    let saga = Saga::start().await;
    let user = customer();
    let a = Uuid::now_v7();
    let too_many: Vec<(Uuid, i64)> = (0..51).map(|_| (Uuid::now_v7(), 1)).collect();
    for body in [
        order_body(&[]),
        order_body(&too_many),
        order_body(&[(a, 0)]),
        order_body(&[(a, 1001)]),
        order_body(&[(a, 1), (a, 2)]),
        json!({"lines": "nope"}),
    ] {
        let res = saga
            .call(Method::POST, "/api/v1/orders", &user, Some(body))
            .await;
        assert_eq!(res.status().as_u16(), 400);
    }
    let anonymous = saga
        .orders
        .client
        .post(format!("{}/api/v1/orders", saga.orders.address))
        .json(&order_body(&[(a, 1)]))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status().as_u16(), 401);
    let stored: i64 = saga
        .orders_db()
        .await
        .query_one("SELECT count(*) FROM orders", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(stored, 0);
}

#[tokio::test]
async fn a_new_order_is_pending_at_once_and_stored_with_its_event() {
    let saga = Saga::start().await;
    let user = customer();
    let product = Uuid::now_v7();
    let res = saga
        .call(
            Method::POST,
            "/api/v1/orders",
            &user,
            Some(order_body(&[(product, 2)])),
        )
        .await;
    assert_eq!(res.status().as_u16(), 202);
    let order: Value = res.json().await.expect("order");
    assert_eq!(order["status"], "PENDING");
    assert_eq!(order["lines"][0]["quantity"], 2);
    let row = saga
        .orders_db()
        .await
        .query_one(
            "SELECT payload FROM outbox WHERE event_type = 'order.created.pending'",
            &[],
        )
        .await
        .expect("outbox row");
    let event: Value = row.get(0);
    assert_eq!(event["data"]["order_id"], order["id"]);
    assert_eq!(
        event["data"]["lines"],
        json!([{"product_id": product, "quantity": 2}])
    );
}

#[tokio::test]
async fn customers_list_their_own_orders_and_admins_list_all() {
    let saga = Saga::start().await;
    let (alice, bob) = (customer(), customer());
    let p = Uuid::now_v7();
    for _ in 0..3 {
        saga.call(
            Method::POST,
            "/api/v1/orders",
            &alice,
            Some(order_body(&[(p, 1)])),
        )
        .await;
    }
    saga.call(
        Method::POST,
        "/api/v1/orders",
        &bob,
        Some(order_body(&[(p, 1)])),
    )
    .await;
    let list = |token: String, query: &'static str| {
        let saga = &saga;
        async move {
            saga.call(Method::GET, &format!("/api/v1/orders{query}"), &token, None)
                .await
                .json::<Value>()
                .await
                .expect("page")
        }
    };
    let mine = list(alice.clone(), "?page=1&size=2").await;
    assert_eq!(mine["total"], 3);
    assert_eq!(mine["items"].as_array().expect("items").len(), 2);
    let ids: Vec<&str> = mine["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| o["id"].as_str().expect("id"))
        .collect();
    assert!(ids[0] > ids[1], "newest first");
    assert_eq!(list(bob, "").await["total"], 1);
    assert_eq!(list(saga.admin.clone(), "").await["total"], 4);
}

/// JSON Schema (and so the OpenAPI document) counts `2.0` as the integer 2.
#[tokio::test]
async fn a_quantity_spelled_with_a_zero_fraction_is_the_whole_number_it_names() {
    let saga = Saga::start().await;
    let user = customer();
    let product = Uuid::now_v7();
    let res = saga
        .call(
            Method::POST,
            "/api/v1/orders",
            &user,
            Some(json!({"lines": [{"product_id": product, "quantity": 2.0}]})),
        )
        .await;
    assert_eq!(res.status().as_u16(), 202);
    let order: Value = res.json().await.expect("order");
    assert_eq!(order["lines"][0]["quantity"], 2);
    for quantity in [json!(2.5), json!(1e19)] {
        let res = saga
            .call(
                Method::POST,
                "/api/v1/orders",
                &user,
                Some(json!({"lines": [{"product_id": product, "quantity": quantity}]})),
            )
            .await;
        assert_eq!(res.status().as_u16(), 400, "{quantity}");
    }
}

#[tokio::test]
async fn the_timeline_lists_every_event_of_the_order_in_order() {
    let saga = Saga::start().await;
    let product = saga.product(5, 100).await;
    let user = customer();
    let correlation = Uuid::now_v7();
    let res = saga
        .orders
        .client
        .post(format!("{}/api/v1/orders", saga.orders.address))
        .bearer_auth(&user)
        .header("X-Correlation-Id", correlation.to_string())
        .json(&order_body(&[(product, 1)]))
        .send()
        .await
        .expect("request");
    let id: Uuid = res.json::<Value>().await.expect("order")["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("uuid");
    saga.wait_for(id, "CONFIRMED").await;
    saga.cancel(&user, id).await;
    let expected = [
        ("order.created.pending", "order-service"),
        ("inventory.stock.reserved", "product-service"),
        ("payment.requested", "order-service"),
        ("order.cancelled", "order-service"),
        ("inventory.stock.released", "product-service"),
    ];
    comanda_testkit::eventually(crate::helpers::WITHIN, "five events", || async {
        let timeline: Value = saga
            .call(
                Method::GET,
                &format!("/api/v1/orders/{id}/timeline"),
                &user,
                None,
            )
            .await
            .json()
            .await
            .expect("timeline");
        timeline["events"].as_array().expect("events").len() == expected.len()
    })
    .await;
    let timeline: Value = saga
        .call(
            Method::GET,
            &format!("/api/v1/orders/{id}/timeline"),
            &user,
            None,
        )
        .await
        .json()
        .await
        .expect("timeline");
    let events = timeline["events"].as_array().expect("events");
    for (event, (event_type, source)) in events.iter().zip(expected) {
        assert_eq!(event["event_type"], event_type);
        assert_eq!(event["source"], source);
        assert!(event["occurred_at"].is_string());
    }
    // The reservation and its release keep the flow of the request that caused them.
    assert_eq!(events[0]["correlation_id"], json!(correlation));
    assert_eq!(events[1]["correlation_id"], json!(correlation));
    assert_eq!(events[1]["causation_id"], events[0]["event_id"]);
    assert_eq!(events[2]["correlation_id"], json!(correlation));
    assert_eq!(events[2]["causation_id"], events[1]["event_id"]);
    assert_eq!(events[4]["causation_id"], events[3]["event_id"]);
    let stranger = saga
        .call(
            Method::GET,
            &format!("/api/v1/orders/{id}/timeline"),
            &customer(),
            None,
        )
        .await;
    assert_eq!(stranger.status().as_u16(), 404);
}

#[tokio::test]
async fn a_clients_own_correlation_id_that_is_no_uuid_follows_the_order_through_its_events() {
    let saga = Saga::start().await;
    let product = saga.product(5, 100).await;
    let user = customer();
    let res = saga
        .orders
        .client
        .post(format!("{}/api/v1/orders", saga.orders.address))
        .bearer_auth(&user)
        .header("X-Correlation-Id", "req-001")
        .json(&order_body(&[(product, 1)]))
        .send()
        .await
        .expect("request");
    assert_eq!(res.headers()["x-correlation-id"], "req-001");
    let id: Uuid = res.json::<Value>().await.expect("order")["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("uuid");
    saga.wait_for(id, "CONFIRMED").await;
    let timeline = || async {
        let timeline: Value = saga
            .call(
                Method::GET,
                &format!("/api/v1/orders/{id}/timeline"),
                &user,
                None,
            )
            .await
            .json()
            .await
            .expect("timeline");
        timeline["events"].as_array().expect("events").clone()
    };
    comanda_testkit::eventually(crate::helpers::WITHIN, "three events", || async {
        timeline().await.len() == 3
    })
    .await;
    // The request, product-service's answer to it over Kafka, and the payment request
    // that answer caused, are in its flow.
    let events = timeline().await;
    assert_eq!(events[1]["source"], "product-service");
    assert_eq!(events[2]["event_type"], "payment.requested");
    for event in &events {
        assert_eq!(event["correlation_id"], "req-001", "{event}");
    }
    // The outbox row (hence the Kafka headers) carries it, with a trace id derived
    // from it.
    let row = saga
        .orders_db()
        .await
        .query_one(
            "SELECT correlation_id, traceparent, payload::jsonb->>'correlation_id' \
             FROM outbox WHERE kafka_key = $1 ORDER BY id LIMIT 1",
            &[&id.to_string()],
        )
        .await
        .expect("the outbox row");
    let client = comanda_kit::correlation::CorrelationId::parse("req-001").expect("valid");
    assert_eq!(row.get::<_, String>(0), "req-001");
    let traceparent: String = row.get(1);
    assert_eq!(
        traceparent.split('-').nth(1),
        Some(client.trace_id().simple().to_string().as_str())
    );
    assert_eq!(row.get::<_, String>(2), "req-001");
}
