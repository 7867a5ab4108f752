//! The services' databases as the checks read them: plain SQL over tokio-postgres,
//! never the services' own code, so a bug there cannot hide itself.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;
use std::time::{Duration, Instant};

use tokio_postgres::{Client, NoTls};
use uuid::Uuid;

use e2e::stack::Stack;

/// One event of an order's saga, as its producer's outbox and its consumer's inbox see it.
pub struct SagaEvent {
    /// Event type, e.g. `order.cancelled`.
    pub kind: String,
    /// Event id.
    pub id: Uuid,
    /// Full topic name.
    pub topic: String,
    /// The service whose outbox holds it.
    pub producer: &'static str,
    /// The service that consumes it.
    pub consumer: &'static str,
    /// When its outbox row was written (UTC, time of day).
    pub created_at: String,
    /// Whether the relay marked it published.
    pub published: bool,
    /// Whether the consumer recorded it in `processed_messages`.
    pub consumed: bool,
}

/// Connections to the services' databases.
pub struct Databases {
    order: Client,
    product: Client,
    auth: Client,
    user: Client,
}

impl Databases {
    /// Connects to the databases of `stack`'s services.
    pub async fn connect(stack: &Stack) -> Self {
        Self {
            order: connect(stack.database("order-service")).await,
            product: connect(stack.database("product-service")).await,
            auth: connect(stack.database("auth-service")).await,
            user: connect(stack.database("user-service")).await,
        }
    }

    /// Per service: unpublished outbox rows, messages its consumers processed and how
    /// long ago the last one was. Where a stuck saga stopped: the relay, or a consumer.
    pub async fn pipeline(&self) -> Vec<String> {
        let services = [
            ("auth-service", &self.auth),
            ("user-service", &self.user),
            ("order-service", &self.order),
            ("product-service", &self.product),
        ];
        let mut lines = Vec::new();
        for (name, client) in services {
            let row = client
                .query_one(
                    "SELECT (SELECT count(*) FROM outbox WHERE published_at IS NULL), \
                            (SELECT count(*) FROM processed_messages), \
                            (SELECT extract(epoch FROM now() - max(processed_at))::float8 \
                             FROM processed_messages)",
                    &[],
                )
                .await
                .expect("reading the outbox and the inbox");
            let unpublished: i64 = row.get(0);
            let processed: i64 = row.get(1);
            let last = row
                .get::<_, Option<f64>>(2)
                .map_or("never".to_owned(), |ago| format!("{ago:.0} s ago"));
            lines.push(format!(
                "{name}: {unpublished} outbox rows unpublished; consumed {processed} messages, \
                 the last {last}"
            ));
        }
        lines
    }

    /// A few orders worth tracing when a run fails, each with why: reservations held
    /// for orders not CONFIRMED, orders given up for `timeout`, orders still PENDING.
    pub async fn troubled_orders(&self) -> Vec<(Uuid, String)> {
        let mut troubled = Vec::new();
        let held = Self::ids(
            &self.product,
            "SELECT order_id FROM reservations WHERE status = 'RESERVED'",
        )
        .await;
        let rows = self
            .order
            .query(
                "SELECT id, status FROM orders WHERE status <> 'CONFIRMED'",
                &[],
            )
            .await
            .expect("reading orders");
        for row in rows {
            let (id, status): (Uuid, String) = (row.get(0), row.get(1));
            if held.contains(&id) && troubled.len() < 3 {
                troubled.push((id, format!("{status}, but its stock is still held")));
            }
        }
        for (sql, why) in [
            (
                "SELECT id FROM orders WHERE rejection_reason = 'timeout' LIMIT 2",
                "REJECTED for timeout",
            ),
            (
                "SELECT id FROM orders WHERE status = 'PENDING' LIMIT 2",
                "PENDING",
            ),
        ] {
            for id in Self::ids(&self.order, sql).await {
                troubled.push((id, why.to_owned()));
            }
        }
        troubled
    }

    /// Ids of the events published to `topic` by any service's outbox.
    pub async fn published_ids(&self, topic: &str) -> Vec<Uuid> {
        let mut ids = Vec::new();
        for client in [&self.auth, &self.user, &self.order, &self.product] {
            let rows = client
                .query(
                    "SELECT event_id FROM outbox WHERE topic = $1 AND published_at IS NOT NULL",
                    &[&topic],
                )
                .await
                .expect("reading the outbox");
            ids.extend(rows.iter().map(|r| r.get::<_, Uuid>(0)));
        }
        ids
    }

    /// Every event of `order`'s saga in either outbox, oldest first.
    pub async fn saga_events(&self, order: Uuid) -> Vec<SagaEvent> {
        let sides = [
            (
                "order-service",
                &self.order,
                "product-service",
                &self.product,
            ),
            (
                "product-service",
                &self.product,
                "order-service",
                &self.order,
            ),
        ];
        let mut events = Vec::new();
        for (producer, outbox, consumer, inbox) in sides {
            let rows = outbox
                .query(
                    "SELECT event_type, event_id, topic, \
                            to_char(created_at AT TIME ZONE 'UTC', 'HH24:MI:SS.MS'), \
                            published_at IS NOT NULL \
                     FROM outbox WHERE kafka_key = $1",
                    &[&order.to_string()],
                )
                .await
                .expect("reading the outbox");
            for row in rows {
                let id: Uuid = row.get(1);
                let consumed = inbox
                    .query_one(
                        "SELECT EXISTS (SELECT 1 FROM processed_messages WHERE event_id = $1)",
                        &[&id],
                    )
                    .await
                    .expect("reading processed messages")
                    .get(0);
                events.push(SagaEvent {
                    kind: row.get(0),
                    id,
                    topic: row.get(2),
                    producer,
                    consumer,
                    created_at: row.get(3),
                    published: row.get(4),
                    consumed,
                });
            }
        }
        events.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        events
    }

    /// Stock of every product, by id.
    pub async fn stock(&self) -> BTreeMap<Uuid, i64> {
        let rows = self
            .product
            .query("SELECT id, stock::int8 FROM products", &[])
            .await
            .expect("reading stock");
        rows.iter().map(|r| (r.get(0), r.get(1))).collect()
    }

    /// The lowest stock of any product right now.
    pub async fn lowest_stock(&self) -> i64 {
        let row = self
            .product
            .query_one("SELECT coalesce(min(stock), 0)::int8 FROM products", &[])
            .await
            .expect("reading stock");
        row.get(0)
    }

    /// Whether `products` still has its `CHECK (stock >= 0)`.
    pub async fn stock_check_exists(&self) -> bool {
        let row = self
            .product
            .query_one(
                "SELECT count(*) FROM pg_constraint \
                 WHERE conrelid = 'products'::regclass AND contype = 'c' \
                   AND pg_get_constraintdef(oid) LIKE '%stock >= 0%'",
                &[],
            )
            .await
            .expect("reading constraints");
        row.get::<_, i64>(0) > 0
    }

    /// Orders by status.
    pub async fn orders_by_status(&self) -> BTreeMap<String, i64> {
        by_status(
            &self.order,
            "SELECT status, count(*) FROM orders GROUP BY status",
        )
        .await
    }

    /// REJECTED orders by `rejection_reason` (`insufficient_stock`, `timeout`).
    pub async fn rejections(&self) -> BTreeMap<String, i64> {
        by_status(
            &self.order,
            "SELECT coalesce(rejection_reason, '?'), count(*) FROM orders \
             WHERE status = 'REJECTED' GROUP BY 1",
        )
        .await
    }

    /// Registrations REJECTED with reason `timeout`: given up by their deadline.
    pub async fn accounts_timed_out(&self) -> i64 {
        let row = self
            .auth
            .query_one(
                "SELECT count(*) FROM accounts \
                 WHERE status = 'REJECTED' AND rejection_reason = 'timeout'",
                &[],
            )
            .await
            .expect("reading accounts");
        row.get(0)
    }

    /// Accounts by status.
    pub async fn accounts_by_status(&self) -> BTreeMap<String, i64> {
        by_status(
            &self.auth,
            "SELECT status, count(*) FROM accounts GROUP BY status",
        )
        .await
    }

    /// Units of each product in CONFIRMED orders.
    async fn confirmed_quantity(&self) -> HashMap<Uuid, i64> {
        let rows = self
            .order
            .query(
                "SELECT l.product_id, sum(l.quantity)::int8 FROM order_lines l \
                 JOIN orders o ON o.id = l.order_id WHERE o.status = 'CONFIRMED' \
                 GROUP BY l.product_id",
                &[],
            )
            .await
            .expect("reading confirmed quantities");
        rows.iter().map(|r| (r.get(0), r.get(1))).collect()
    }

    async fn ids(client: &Client, sql: &str) -> HashSet<Uuid> {
        let rows = client.query(sql, &[]).await.expect("reading ids");
        rows.iter().map(|r| r.get(0)).collect()
    }

    /// Products whose stock does not match `before` minus their CONFIRMED units, as
    /// lines for the report; and the orders whose reservation disagrees with their status.
    pub async fn stock_mismatches(
        &self,
        before: &BTreeMap<Uuid, i64>,
    ) -> (Vec<String>, Vec<String>) {
        let after = self.stock().await;
        let confirmed = self.confirmed_quantity().await;
        let mut products = Vec::new();
        for (id, stock_before) in before {
            let stock_after = after.get(id).copied().unwrap_or_default();
            let sold = confirmed.get(id).copied().unwrap_or_default();
            if stock_before - stock_after != sold {
                products.push(format!(
                    "product {id}: stock {stock_before} → {stock_after} (−{}), \
                     but CONFIRMED orders hold {sold}",
                    stock_before - stock_after
                ));
            }
        }
        let confirmed_orders = Self::ids(
            &self.order,
            "SELECT id FROM orders WHERE status = 'CONFIRMED'",
        )
        .await;
        let held = Self::ids(
            &self.product,
            "SELECT order_id FROM reservations WHERE status = 'RESERVED'",
        )
        .await;
        let mut orders = Vec::new();
        if let Some(id) = confirmed_orders.difference(&held).next() {
            let count = confirmed_orders.difference(&held).count();
            orders.push(format!(
                "{count} CONFIRMED orders hold no reservation, e.g. {id}"
            ));
        }
        if let Some(id) = held.difference(&confirmed_orders).next() {
            let count = held.difference(&confirmed_orders).count();
            orders.push(format!(
                "{count} reservations held for orders not CONFIRMED, e.g. {id}"
            ));
        }
        (products, orders)
    }

    /// Keys and orders that break "one order per key, the one the client was told".
    pub async fn key_violations(&self, answered: &HashMap<String, String>) -> (usize, Vec<String>) {
        let rows = self
            .order
            .query(
                "SELECT k.key, k.response_body->>'id', count(o.id) \
                 FROM idempotency_keys k \
                 LEFT JOIN orders o ON o.id = (k.response_body->>'id')::uuid \
                 GROUP BY k.user_id, k.key, k.response_body->>'id'",
                &[],
            )
            .await
            .expect("reading idempotency keys");
        let mut problems = Vec::new();
        let mut stored = HashMap::new();
        for row in &rows {
            let key: String = row.get(0);
            let order: Option<String> = row.get(1);
            let orders: i64 = row.get(2);
            if orders != 1 {
                problems.push(format!(
                    "key {key} names {order:?}, which matches {orders} orders"
                ));
            }
            stored.insert(key, order.unwrap_or_default());
        }
        let unkeyed = self
            .order
            .query_one(
                "SELECT count(*) FROM orders o WHERE NOT EXISTS \
                 (SELECT 1 FROM idempotency_keys k WHERE (k.response_body->>'id')::uuid = o.id)",
                &[],
            )
            .await
            .expect("reading orders without a key")
            .get::<_, i64>(0);
        if unkeyed > 0 {
            problems.push(format!(
                "{unkeyed} orders belong to no Idempotency-Key (created twice?)"
            ));
        }
        for (key, id) in answered {
            match stored.get(key) {
                Some(stored) if stored == id => {}
                Some(stored) => problems.push(format!(
                    "key {key}: the client was answered order {id}, the key stores {stored}"
                )),
                None => problems.push(format!("key {key}: answered order {id}, but no key row")),
            }
        }
        (rows.len(), problems)
    }

    /// Waits (up to `within`) until no order or account is PENDING and stock matches
    /// the CONFIRMED orders; prints progress every 10 s. The checks come after, either way.
    pub async fn settle(&self, before: &BTreeMap<Uuid, i64>, within: Duration) -> Duration {
        let started = Instant::now();
        let mut said = Instant::now();
        loop {
            let pending = self.orders_by_status().await.get("PENDING").copied();
            let accounts = self.accounts_by_status().await.get("PENDING").copied();
            let (products, orders) = self.stock_mismatches(before).await;
            let settled =
                pending.is_none() && accounts.is_none() && products.is_empty() && orders.is_empty();
            if settled || started.elapsed() >= within {
                return started.elapsed();
            }
            if said.elapsed() >= Duration::from_secs(10) {
                println!(
                    "chaos: settling for {:.0}s: {} orders and {} accounts PENDING, \
                     {} products and {} reservation sets off",
                    started.elapsed().as_secs_f64(),
                    pending.unwrap_or(0),
                    accounts.unwrap_or(0),
                    products.len(),
                    orders.len()
                );
                said = Instant::now();
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

async fn connect(url: &str) -> Client {
    let config = tokio_postgres::Config::from_str(url).expect("database URL");
    let (client, connection) = config.connect(NoTls).await.expect("connecting");
    tokio::spawn(connection);
    client
}

async fn by_status(client: &Client, sql: &str) -> BTreeMap<String, i64> {
    let rows = client.query(sql, &[]).await.expect("counting by status");
    rows.iter().map(|r| (r.get(0), r.get(1))).collect()
}
