//! The saga backlog guard (`orders.max_pending`): beyond it a new order is a 503
//! `saga_backlog_full` with `Retry-After` that writes nothing; a replay of an accepted
//! order still answers it; once orders are decided there is room again.

use std::time::Duration;

use comanda_kit::auth::Role;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{id_of, order_body, token, Saga};

/// The backlog allowed in these tests.
const MAX_PENDING: u32 = 2;

/// Orders, outbox rows and deadlines in order-service's database.
async fn rows(saga: &Saga) -> [i64; 3] {
    let db = saga.orders_db().await;
    let mut counts = [0; 3];
    for (count, sql) in counts.iter_mut().zip([
        "SELECT count(*) FROM orders",
        "SELECT count(*) FROM outbox",
        "SELECT count(*) FROM saga_deadlines",
    ]) {
        *count = db.query_one(sql, &[]).await.expect(sql).get(0);
    }
    counts
}

#[tokio::test]
async fn beyond_the_saga_backlog_an_order_is_a_503_with_retry_after_that_writes_nothing() {
    let mut saga =
        Saga::start_configured(|settings| settings.orders.max_pending = MAX_PENDING).await;
    let product = saga.product(100, 250).await;
    // Nobody decides stock: every order stays PENDING.
    saga.stop_products().await;
    let customer = token(Uuid::now_v7(), &[Role::User]);
    let mut first = None;
    for n in 0..MAX_PENDING {
        let res = saga
            .post_order(
                &customer,
                Some(&format!("placed-{n}")),
                order_body(&[(product, 1)]),
            )
            .await;
        assert_eq!(res.status().as_u16(), 202);
        first.get_or_insert(id_of(&res.json().await.expect("order")));
    }
    // The backlog is counted at most every 200 ms.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = rows(&saga).await;

    let res = saga
        .post_order(&customer, Some("one-too-many"), order_body(&[(product, 1)]))
        .await;

    assert_eq!(res.status().as_u16(), 503);
    assert_eq!(res.headers()["retry-after"], "1");
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let problem: Value = res.json().await.expect("problem");
    assert_eq!(problem["code"], "saga_backlog_full", "{problem}");
    assert_eq!(rows(&saga).await, before, "nothing written");

    // An order already accepted is answered again, not refused.
    let replay = saga
        .post_order(&customer, Some("placed-0"), order_body(&[(product, 1)]))
        .await;
    assert_eq!(replay.status().as_u16(), 202);
    assert_eq!(Some(id_of(&replay.json().await.expect("order"))), first);

    // Once the backlog is decided there is room again.
    saga.restart_products().await;
    let first = first.expect("placed");
    saga.wait_for(first, "CONFIRMED").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let accepted = loop {
        let res = saga
            .post_order(
                &customer,
                Some("after-the-backlog"),
                order_body(&[(product, 1)]),
            )
            .await;
        if res.status().as_u16() != 503 || tokio::time::Instant::now() > deadline {
            break res.status().as_u16();
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(accepted, 202);
}
