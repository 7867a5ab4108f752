//! The services' databases as the checks read them: plain SQL over tokio-postgres,
//! never the services' own code, so a bug there cannot hide itself.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;

use comanda_outbox::topics;
use tokio_postgres::{Client, NoTls};
use uuid::Uuid;

use e2e::stack::Stack;

use crate::money::{OrderMoney, Payment};

/// The order states that hold stock: CONFIRMED (awaiting payment) and PAID.
const HOLDING: &str = "('CONFIRMED', 'PAID')";

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
    /// The services that consume it, and whether each recorded it in
    /// `processed_messages`.
    pub consumers: Vec<(&'static str, bool)>,
    /// When its outbox row was written (UTC, time of day).
    pub created_at: String,
    /// Whether the relay marked it published.
    pub published: bool,
}

/// Connections to the services' databases.
pub struct Databases {
    order: Client,
    product: Client,
    auth: Client,
    user: Client,
    payment: Client,
}

impl Databases {
    /// Connects to the databases of `stack`'s services.
    pub async fn connect(stack: &Stack) -> Self {
        Self {
            order: connect(stack.database("order-service")).await,
            product: connect(stack.database("product-service")).await,
            auth: connect(stack.database("auth-service")).await,
            user: connect(stack.database("user-service")).await,
            payment: connect(stack.database("payment-service")).await,
        }
    }

    /// Every service's database, by service name.
    fn services(&self) -> [(&'static str, &Client); 5] {
        [
            ("auth-service", &self.auth),
            ("user-service", &self.user),
            ("order-service", &self.order),
            ("product-service", &self.product),
            ("payment-service", &self.payment),
        ]
    }

    /// Per service: unpublished outbox rows, messages its consumers processed and how
    /// long ago the last one was. Where a stuck saga stopped: the relay, or a consumer.
    pub async fn pipeline(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for (name, client) in self.services() {
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
    /// for orders not holding stock, orders given up for `timeout`, orders still
    /// PENDING or CONFIRMED (its payment never came, nor its deadline).
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
                &format!("SELECT id, status FROM orders WHERE status NOT IN {HOLDING}"),
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
            (
                "SELECT id FROM orders WHERE status = 'CONFIRMED' LIMIT 2",
                "CONFIRMED",
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
        for (_, client) in self.services() {
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

    /// Every event of `order`'s saga in the outboxes of order-, product- and
    /// payment-service (all keyed by the order id), oldest first.
    pub async fn saga_events(&self, order: Uuid) -> Vec<SagaEvent> {
        let services = self.services();
        let mut events = Vec::new();
        for (producer, outbox) in &services[2..] {
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
                let topic: String = row.get(2);
                let mut consumers = Vec::new();
                for consumer in consumers_of(&topic) {
                    let (_, inbox) = services
                        .iter()
                        .find(|(name, _)| name == consumer)
                        .expect("a consumer of the stack");
                    let consumed = inbox
                        .query_one(
                            "SELECT EXISTS (SELECT 1 FROM processed_messages WHERE event_id = $1)",
                            &[&id],
                        )
                        .await
                        .expect("reading processed messages")
                        .get(0);
                    consumers.push((*consumer, consumed));
                }
                events.push(SagaEvent {
                    kind: row.get(0),
                    id,
                    topic,
                    producer,
                    created_at: row.get(3),
                    published: row.get(4),
                    consumers,
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

    /// Units of each product in orders that hold stock (PAID, CONFIRMED).
    async fn held_quantity(&self) -> HashMap<Uuid, i64> {
        let rows = self
            .order
            .query(
                &format!(
                    "SELECT l.product_id, sum(l.quantity)::int8 FROM order_lines l \
                     JOIN orders o ON o.id = l.order_id WHERE o.status IN {HOLDING} \
                     GROUP BY l.product_id"
                ),
                &[],
            )
            .await
            .expect("reading held quantities");
        rows.iter().map(|r| (r.get(0), r.get(1))).collect()
    }

    async fn ids(client: &Client, sql: &str) -> HashSet<Uuid> {
        let rows = client.query(sql, &[]).await.expect("reading ids");
        rows.iter().map(|r| r.get(0)).collect()
    }

    /// Products whose stock does not match `before` minus their units in PAID and
    /// CONFIRMED orders, as lines for the report; and the orders whose reservation
    /// disagrees with their status.
    pub async fn stock_mismatches(
        &self,
        before: &BTreeMap<Uuid, i64>,
    ) -> (Vec<String>, Vec<String>) {
        let after = self.stock().await;
        let held_units = self.held_quantity().await;
        let mut products = Vec::new();
        for (id, stock_before) in before {
            let stock_after = after.get(id).copied().unwrap_or_default();
            let sold = held_units.get(id).copied().unwrap_or_default();
            if stock_before - stock_after != sold {
                products.push(format!(
                    "product {id}: stock {stock_before} → {stock_after} (−{}), \
                     but PAID and CONFIRMED orders hold {sold}",
                    stock_before - stock_after
                ));
            }
        }
        let holding = Self::ids(
            &self.order,
            &format!("SELECT id FROM orders WHERE status IN {HOLDING}"),
        )
        .await;
        let held = Self::ids(
            &self.product,
            "SELECT order_id FROM reservations WHERE status = 'RESERVED'",
        )
        .await;
        let mut orders = Vec::new();
        if let Some(id) = holding.difference(&held).next() {
            let count = holding.difference(&held).count();
            orders.push(format!(
                "{count} PAID or CONFIRMED orders hold no reservation, e.g. {id}"
            ));
        }
        if let Some(id) = held.difference(&holding).next() {
            let count = held.difference(&holding).count();
            orders.push(format!(
                "{count} reservations held for orders neither PAID nor CONFIRMED, e.g. {id}"
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

    /// Every order with what it shows of its payment and refund.
    pub async fn order_money(&self) -> Vec<OrderMoney> {
        let rows = self
            .order
            .query(
                "SELECT id, status, payment_status, refund_status FROM orders",
                &[],
            )
            .await
            .expect("reading orders");
        rows.iter()
            .map(|r| OrderMoney {
                id: r.get(0),
                status: r.get(1),
                payment_status: r.get(2),
                refund_status: r.get(3),
            })
            .collect()
    }

    /// payment-service's payments: which order each is for, and its status.
    pub async fn payments(&self) -> Vec<Payment> {
        let rows = self
            .payment
            .query("SELECT id, order_id, status FROM payments", &[])
            .await
            .expect("reading payments");
        rows.iter()
            .map(|r| Payment {
                id: r.get(0),
                order_id: r.get(1),
                status: r.get(2),
            })
            .collect()
    }
}

/// The services that consume events of `topic` (a full topic name), by the catalogue
/// (docs/events.md).
fn consumers_of(topic: &str) -> &'static [&'static str] {
    let is = |name: &str| topic.ends_with(name);
    if is(topics::ORDER_CREATED_PENDING) {
        &["product-service"]
    } else if is(topics::ORDER_CANCELLED) {
        &["product-service", "payment-service"]
    } else if is(topics::PAYMENT_REQUESTED) {
        &["payment-service"]
    } else if is(topics::STOCK_RESERVED)
        || is(topics::STOCK_FAILED)
        || is(topics::STOCK_RELEASED)
        || is(topics::PAYMENT_CREATED)
        || is(topics::PAYMENT_SUCCEEDED)
        || is(topics::PAYMENT_FAILED)
        || is(topics::PAYMENT_REFUNDED)
    {
        &["order-service"]
    } else {
        &[]
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
