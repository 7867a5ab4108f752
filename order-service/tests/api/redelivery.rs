//! Kafka delivers at least once: duplicates of order events change nothing.

use comanda_outbox::topics;
use comanda_testkit::eventually;

use crate::helpers::{customer, Saga, WITHIN};

#[tokio::test]
async fn pending_and_cancelled_events_delivered_twice_reserve_once_and_release_once() {
    let saga = Saga::start().await;
    let product = saga.product(10, 250).await;
    let user = customer();
    let id = saga.place(&user, &[(product, 4)]).await;
    saga.wait_for(id, "CONFIRMED").await;

    saga.redeliver(topics::ORDER_CREATED_PENDING, id).await;
    eventually(WITHIN, "the duplicate order event is skipped", || async {
        saga.duplicates_skipped(topics::ORDER_CREATED_PENDING).await == 1
    })
    .await;
    assert_eq!(saga.stock(product).await, 6);
    assert_eq!(
        saga.count_products("SELECT count(*) FROM reservations")
            .await,
        1
    );
    assert_eq!(
        saga.count_products(
            "SELECT count(*) FROM outbox WHERE event_type = 'inventory.stock.reserved'"
        )
        .await,
        1
    );

    assert_eq!(saga.cancel(&user, id).await.status().as_u16(), 200);
    eventually(WITHIN, "the reservation is released", || async {
        saga.reservation(id).await.as_deref() == Some("RELEASED")
    })
    .await;
    saga.redeliver(topics::ORDER_CANCELLED, id).await;
    eventually(WITHIN, "the duplicate cancel is skipped", || async {
        saga.duplicates_skipped(topics::ORDER_CANCELLED).await == 1
    })
    .await;
    assert_eq!(saga.stock(product).await, 10);
    assert_eq!(
        saga.count_products(
            "SELECT count(*) FROM outbox WHERE event_type = 'inventory.stock.released'"
        )
        .await,
        1
    );
}
