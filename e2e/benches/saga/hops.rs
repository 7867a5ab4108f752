//! Where an order's time goes between its POST and its decision, hop by hop, from the
//! times the databases keep (read after the load, like everything else):
//!
//! 1. **relay (request)**: order committed (`orders.created_at`) → its
//!    `order.created.pending` marked published (`outbox.published_at`, stamped after the
//!    broker's ack);
//! 2. **to product-service**: published → product-service's inbox applied it
//!    (`processed_messages.processed_at`, the start of that transaction): the broker,
//!    the consumer's fetch and its queue;
//! 3. **relay (reply)**: the reply's outbox row written → published;
//! 4. **to order-service**: the reply published → order-service applied it (the decision).

use std::collections::HashMap;
use std::time::SystemTime;

use comanda_outbox::topics;
use hdrhistogram::Histogram;
use uuid::Uuid;

use crate::observe::Databases;

/// The hops' names, in order.
pub const HOPS: [&str; 4] = [
    "relay (request)",
    "to product-service",
    "relay (reply)",
    "to order-service",
];

/// One histogram (µs) per hop of [`HOPS`], over the orders of `orders` created since
/// `since` that were decided.
pub async fn measure(
    db: &Databases,
    orders: &[Uuid],
    since: SystemTime,
) -> anyhow::Result<Vec<Histogram<u64>>> {
    let order_db = db.of("order-service");
    let product_db = db.of("product-service");
    // Order id → (created, request event id, request published); the first request
    // of an order that was sent again (rows come newest first, the last one stays).
    let requests: HashMap<Uuid, (SystemTime, Uuid, Option<SystemTime>)> = order_db
        .query(
            "SELECT o.id, o.created_at, b.event_id, b.published_at FROM orders o \
             JOIN outbox b ON b.kafka_key = o.id::text AND b.event_type = $1 \
             WHERE o.created_at >= $2 ORDER BY b.id DESC",
            &[&topics::ORDER_CREATED_PENDING, &since],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2), r.get(3))))
        .collect();
    // Request event id → applied by product-service.
    let applied: HashMap<Uuid, SystemTime> = product_db
        .query(
            "SELECT event_id, processed_at FROM processed_messages WHERE topic = $1",
            &[&format!("{}{}", db.prefix, topics::ORDER_CREATED_PENDING)],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    // Order id → (reply written, reply published, reply event id).
    let replies: HashMap<Uuid, (SystemTime, Option<SystemTime>, Uuid)> = product_db
        .query(
            "SELECT kafka_key::uuid, created_at, published_at, event_id FROM outbox \
             WHERE event_type = ANY($1) ORDER BY id DESC",
            &[&vec![topics::STOCK_RESERVED, topics::STOCK_FAILED]],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2), r.get(3))))
        .collect();
    // Reply event id → applied by order-service.
    let decided: HashMap<Uuid, SystemTime> = order_db
        .query(
            "SELECT event_id, processed_at FROM processed_messages WHERE topic = ANY($1)",
            &[&vec![
                format!("{}{}", db.prefix, topics::STOCK_RESERVED),
                format!("{}{}", db.prefix, topics::STOCK_FAILED),
            ]],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut hops: Vec<Histogram<u64>> = HOPS.iter().map(|_| crate::report::histogram()).collect();
    for order in orders {
        let Some(&(created, request, Some(published))) = requests.get(order) else {
            continue;
        };
        let Some(&(written, Some(reply_published), reply)) = replies.get(order) else {
            continue;
        };
        let (Some(&taken), Some(&decision)) = (applied.get(&request), decided.get(&reply)) else {
            continue;
        };
        let spans = [
            (created, published),
            (published, taken),
            (written, reply_published),
            (reply_published, decision),
        ];
        for (hop, (from, to)) in hops.iter_mut().zip(spans) {
            hop.saturating_record(crate::report::since(from, to).as_micros() as u64);
        }
    }
    Ok(hops)
}
