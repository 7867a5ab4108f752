//! The ceiling: the SQL transactions the saga commits for one order, run straight
//! against Postgres by `C` clients in a tight loop — no HTTP, no broker, no consumer —
//! on fresh databases migrated as order-service's and product-service's are.
//!
//! Per order, as the services write it (statement for statement, see
//! `order-service/src/routes/orders/create.rs`, `product-service/src/events/reserve.rs`
//! and `order-service/src/events/stock_reserved.rs`):
//! 1. **place** (order-service): claim the idempotency key, take the customer's
//!    open-orders lock and count them, insert the order and its lines, the
//!    `order.created.pending` outbox row and timeline entry, schedule the stock request's
//!    deadline;
//! 2. **reserve** (product-service): dedupe the message, claim the reservation, lock the
//!    products, take their stock, insert the reservation lines and the
//!    `inventory.stock.reserved` outbox row;
//! 3. **confirm** (order-service): dedupe the message, lock the order and read its
//!    lines, record the reply on the timeline, clear the stock deadline, price the
//!    lines, set total and status, the `payment.requested` outbox row and timeline
//!    entry, schedule the payment deadline;
//! 4. the relay's marks: one task per database claims unpublished rows (as the relay
//!    does, payloads included) and marks them published, in batches of up to 500.
//!
//! Each client orders as its own customer, 1–3 of the products, as the load does.
//! What the system does after the decision (payment-service's checkout) is not in it:
//! the ceiling is of the path to the stock decision.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_postgres::{Client, NoTls};
use uuid::Uuid;

use crate::cpu::{database_name, Sample, Used, Watched};
use saga::Saga;

mod saga;
mod statements;

/// Units of each product (as the stack's catalogue): every order is reserved.
const STOCK: i32 = 100_000_000;
/// The relay's batch (its default `batch_size`).
const RELAY_BATCH: i64 = 500;
/// Topic names carry a prefix, as in the stack.
const PREFIX: &str = "bench.";

/// What the ceiling run measured.
pub struct Ceiling {
    /// Sagas whose three transactions committed.
    pub orders: u64,
    /// Transactions that failed (rolled back; counted, not retried).
    pub failed: u64,
    pub elapsed: Duration,
    pub cpu: Used,
}

impl Ceiling {
    pub fn per_second(&self) -> f64 {
        self.orders as f64 / self.elapsed.as_secs_f64()
    }
}

/// Runs `clients` clients for `length` on fresh databases with `products` products.
pub async fn run(clients: usize, length: Duration, products: usize) -> anyhow::Result<Ceiling> {
    let order_url = comanda_kit::testing::fresh_database("bench_ceiling_order").await;
    let migrations = vec![comanda_outbox::MIGRATIONS, order_service::MIGRATIONS];
    comanda_kit::db::run_migrations(&order_url, migrations).await?;
    let product_url = comanda_kit::testing::fresh_database("bench_ceiling_product").await;
    let migrations = vec![comanda_outbox::MIGRATIONS, product_service::MIGRATIONS];
    comanda_kit::db::run_migrations(&product_url, migrations).await?;
    let catalogue = stock(&product_url, products).await?;

    let stop = Arc::new(AtomicBool::new(false));
    let relays: Vec<_> = [&order_url, &product_url]
        .into_iter()
        .map(|url| tokio::spawn(relay(url.clone(), Arc::clone(&stop))))
        .collect();
    let mut sagas = Vec::with_capacity(clients);
    for client in 0..clients {
        sagas.push(Saga::connect(&order_url, &product_url, client, &catalogue).await?);
    }
    let watched = [
        Watched::Backends {
            name: "postgres: order db".into(),
            databases: vec![database_name(&order_url)],
            exclude: Vec::new(),
        },
        Watched::Backends {
            name: "postgres: product db".into(),
            databases: vec![database_name(&product_url)],
            exclude: Vec::new(),
        },
        Watched::PostgresServer {
            name: "postgres server (shared)".into(),
        },
        Watched::Process {
            name: "bench clients".into(),
            pid: std::process::id(),
        },
    ];
    let before = Sample::now(&watched);
    let started = Instant::now();
    let end = started + length;
    let mut tasks = tokio::task::JoinSet::new();
    for mut saga in sagas {
        tasks.spawn(async move {
            let (mut done, mut failed) = (0u64, 0u64);
            while Instant::now() < end {
                match saga.one_order().await {
                    Ok(()) => done += 1,
                    Err(_) => failed += 1,
                }
            }
            (done, failed)
        });
    }
    let (mut orders, mut failed) = (0, 0);
    for (done, lost) in tasks.join_all().await {
        orders += done;
        failed += lost;
    }
    let elapsed = started.elapsed();
    let cpu = Sample::now(&watched).since(&before);
    stop.store(true, Ordering::Relaxed);
    for relay in relays {
        relay.await??;
    }
    Ok(Ceiling {
        orders,
        failed,
        elapsed,
        cpu,
    })
}

async fn connect(url: &str) -> anyhow::Result<Client> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// A product as the reservation reads it: (id, name, price).
type Product = (Uuid, String, i64);

/// Inserts `count` products with [`STOCK`] units each.
async fn stock(url: &str, count: usize) -> anyhow::Result<Vec<Product>> {
    let db = connect(url).await?;
    let mut catalogue = Vec::with_capacity(count);
    for n in 0..count {
        let product = (Uuid::new_v4(), format!("Bench product {n}"), 100 + n as i64);
        db.execute(
            "INSERT INTO products (id, sku, name, category, price_cents, stock) \
             VALUES ($1, $2, $3, 'bench', $4, $5)",
            &[
                &product.0,
                &format!("BENCH-{n}"),
                &product.1,
                &product.2,
                &STOCK,
            ],
        )
        .await?;
        catalogue.push(product);
    }
    Ok(catalogue)
}

/// The relay's side: claims unpublished rows in id order and marks them published,
/// until `stop` and nothing is left.
async fn relay(url: String, stop: Arc<AtomicBool>) -> anyhow::Result<()> {
    let db = connect(&url).await?;
    let claim = db
        .prepare(
            "SELECT id, event_id, topic, kafka_key, event_type, correlation_id, traceparent, \
             payload::text, created_at \
             FROM outbox WHERE published_at IS NULL AND id <> ALL($1) ORDER BY id LIMIT $2",
        )
        .await?;
    let mark = db
        .prepare("UPDATE outbox SET published_at = clock_timestamp() WHERE id = ANY($1)")
        .await?;
    let in_flight: Vec<i64> = Vec::new();
    loop {
        let rows = db.query(&claim, &[&in_flight, &RELAY_BATCH]).await?;
        if rows.is_empty() {
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
        db.execute(&mark, &[&ids]).await?;
    }
}
