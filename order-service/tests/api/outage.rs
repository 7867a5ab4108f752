//! product-service down: orders wait PENDING in Kafka and resolve once it is back.

use std::time::Duration;

use comanda_testkit::eventually;

use crate::helpers::{customer, Saga, WITHIN};

#[tokio::test]
async fn orders_placed_while_product_service_is_down_stay_pending_then_all_resolve() {
    let mut saga = Saga::start().await;
    let product = saga.product(3, 100).await;
    saga.stop_products().await;

    let user = customer();
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(saga.place(&user, &[(product, 1)]).await);
    }
    // Every order event is on Kafka, and nothing answers.
    let db = saga.orders_db().await;
    eventually(WITHIN, "the order events are published", || async {
        let unpublished: i64 = db
            .query_one(
                "SELECT count(*) FROM outbox WHERE published_at IS NULL",
                &[],
            )
            .await
            .expect("count")
            .get(0);
        unpublished == 0
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    for id in &ids {
        assert_eq!(saga.status(*id).await, "PENDING");
    }
    assert_eq!(
        saga.count_products("SELECT count(*) FROM reservations")
            .await,
        0
    );

    saga.restart_products().await;
    for id in &ids {
        eventually(WITHIN, "the order is decided", || async {
            saga.status(*id).await != "PENDING"
        })
        .await;
    }
    let confirmed: i64 = db
        .query_one(
            "SELECT count(*) FROM orders WHERE status = 'CONFIRMED'",
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(confirmed, 3);
    assert_eq!(saga.stock(product).await, 0);
}
