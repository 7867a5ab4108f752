//! The cap on open orders per user (`orders.max_open_per_user`): one order more is a
//! 409 `too_many_open_orders` that writes nothing, concurrent requests cannot both
//! take the last place, and an idempotent replay still answers its first order.

use comanda_kit::auth::Role;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{id_of, order_body, token, Saga};

/// The cap in these tests.
const CAP: u32 = 3;

/// A saga whose order-service allows [`CAP`] open orders per user, with product-service
/// stopped so every order stays PENDING (open) while the test runs.
async fn capped_saga() -> Saga {
    let mut saga = Saga::start_configured(|settings| settings.orders.max_open_per_user = CAP).await;
    saga.stop_products().await;
    saga
}

/// Rows of `user` in orders and idempotency_keys, and of the whole outbox and the
/// saga's deadlines.
async fn rows(saga: &Saga, user: Uuid) -> [i64; 4] {
    let db = saga.orders_db().await;
    let mut counts = [0; 4];
    let queries = [
        "SELECT count(*) FROM orders WHERE user_id = $1",
        "SELECT count(*) FROM idempotency_keys WHERE user_id = $1",
        "SELECT count(*) FROM outbox WHERE $1::uuid IS NOT NULL",
        "SELECT count(*) FROM saga_deadlines WHERE $1::uuid IS NOT NULL",
    ];
    for (count, sql) in counts.iter_mut().zip(queries) {
        *count = db.query_one(sql, &[&user]).await.expect(sql).get(0);
    }
    counts
}

#[tokio::test]
async fn one_open_order_more_than_the_cap_is_a_409_that_writes_nothing() {
    let saga = capped_saga().await;
    let product = Uuid::now_v7();
    let user = Uuid::now_v7();
    let customer = token(user, &[Role::User]);
    let mut first = None;
    for n in 0..CAP {
        let key = format!("open-{n}");
        let res = saga
            .post_order(&customer, Some(&key), order_body(&[(product, 1)]))
            .await;
        assert_eq!(res.status().as_u16(), 202);
        first.get_or_insert(id_of(&res.json().await.expect("order")));
    }
    let before = rows(&saga, user).await;
    assert_eq!(before[..2], [i64::from(CAP), i64::from(CAP)]);

    let res = saga
        .post_order(&customer, Some("one-too-many"), order_body(&[(product, 1)]))
        .await;
    assert_eq!(res.status().as_u16(), 409);
    assert_eq!(
        res.headers()["content-type"],
        "application/problem+json",
        "a problem"
    );
    let problem: Value = res.json().await.expect("problem");
    assert_eq!(problem["code"], "too_many_open_orders", "{problem}");
    // No order, no key, no event, no deadline.
    assert_eq!(rows(&saga, user).await, before);

    // A replay of an order already placed is no new order: it answers the first one.
    let replay = saga
        .post_order(&customer, Some("open-0"), order_body(&[(product, 1)]))
        .await;
    assert_eq!(replay.status().as_u16(), 202);
    assert_eq!(Some(id_of(&replay.json().await.expect("order"))), first);

    // Another customer is not affected.
    let other = token(Uuid::now_v7(), &[Role::User]);
    let res = saga
        .post_order(&other, None, order_body(&[(product, 1)]))
        .await;
    assert_eq!(res.status().as_u16(), 202);

    // A cancelled order is no longer open: there is room for one more.
    let cancel = saga.cancel(&customer, first.expect("placed")).await;
    assert_eq!(cancel.status().as_u16(), 200);
    let res = saga
        .post_order(&customer, None, order_body(&[(product, 1)]))
        .await;
    assert_eq!(res.status().as_u16(), 202);
}

#[tokio::test]
async fn concurrent_orders_at_the_cap_take_only_the_places_left() {
    let saga = capped_saga().await;
    let product = Uuid::now_v7();
    let user = Uuid::now_v7();
    let customer = token(user, &[Role::User]);
    for _ in 0..CAP - 1 {
        let res = saga
            .post_order(&customer, None, order_body(&[(product, 1)]))
            .await;
        assert_eq!(res.status().as_u16(), 202);
    }
    let requests = (0..10).map(|n| {
        let key = format!("race-{n}");
        let customer = customer.clone();
        let saga = &saga;
        async move {
            saga.post_order(&customer, Some(&key), order_body(&[(product, 1)]))
                .await
        }
    });
    let mut statuses: Vec<u16> = futures::future::join_all(requests)
        .await
        .iter()
        .map(|res| res.status().as_u16())
        .collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [202, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
    let open = saga
        .orders_db()
        .await
        .query_one(
            "SELECT count(*) FROM orders WHERE user_id = $1 AND status IN ('PENDING', 'CONFIRMED')",
            &[&user],
        )
        .await
        .expect("count")
        .get::<_, i64>(0);
    assert_eq!(open, i64::from(CAP));
}
