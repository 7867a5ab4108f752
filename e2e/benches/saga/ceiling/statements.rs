//! The statements the services run for one order, prepared on each connection (as
//! diesel-async caches them).

use tokio_postgres::{Client, Statement};

/// The statements the services prepare, on the connection they run on.
pub struct Statements {
    pub claim_key: Statement,
    pub lock_user: Statement,
    pub count_open: Statement,
    pub insert_order: Statement,
    pub insert_lines: Statement,
    pub outbox: Statement,
    pub timeline: Statement,
    pub schedule: Statement,
    pub dedupe: Statement,
    pub lock_order: Statement,
    pub lines_of: Statement,
    pub clear: Statement,
    pub price_line: Statement,
    pub set_total: Statement,
    pub set_status: Statement,
}

/// The same, on product-service's database.
pub struct ProductStatements {
    pub dedupe: Statement,
    pub claim: Statement,
    pub lock_on_hand: Statement,
    pub move_stock: Statement,
    pub insert_lines: Statement,
    pub outbox: Statement,
}

const OUTBOX: &str = "INSERT INTO outbox (event_id, topic, kafka_key, event_type, correlation_id, \
                      traceparent, payload) VALUES ($1, $2, $3, $4, $5, $6, $7)";
const DEDUPE: &str =
    "INSERT INTO processed_messages (consumer, event_id, topic) VALUES ($1, $2, $3) \
                      ON CONFLICT DO NOTHING";

impl Statements {
    pub async fn prepare(db: &Client) -> anyhow::Result<Self> {
        Ok(Self {
            claim_key: db
                .prepare(
                    "INSERT INTO idempotency_keys (user_id, key, request_hash, response_status, \
                     response_body) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                )
                .await?,
            lock_user: db
                .prepare("SELECT pg_advisory_xact_lock(hashtextextended('open-orders:' || $1::text, 0))")
                .await?,
            count_open: db
                .prepare("SELECT count(*) FROM orders WHERE user_id = $1 AND status = ANY($2)")
                .await?,
            insert_order: db
                .prepare(
                    "INSERT INTO orders (id, user_id, status, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .await?,
            insert_lines: db
                .prepare(
                    "INSERT INTO order_lines (order_id, product_id, quantity) \
                     SELECT $1, unnest($2::uuid[]), unnest($3::int4[])",
                )
                .await?,
            outbox: db.prepare(OUTBOX).await?,
            timeline: db
                .prepare(
                    "INSERT INTO order_events (order_id, event_id, event_type, source, \
                     correlation_id, causation_id, occurred_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .await?,
            schedule: db
                .prepare(
                    "INSERT INTO saga_deadlines (kind, aggregate_id, due_at, data) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (kind, aggregate_id) DO UPDATE \
                     SET due_at = $3, data = $4, attempts = 0, failures = 0, last_error = NULL, \
                     updated_at = now()",
                )
                .await?,
            dedupe: db.prepare(DEDUPE).await?,
            lock_order: db
                .prepare(
                    "SELECT id, user_id, status, total_cents, shortfalls, created_at, updated_at, \
                     rejection_reason, currency, cancellation_reason, payment_id, payment_status, \
                     checkout_url, payment_expires_at, refund_status FROM orders WHERE id = $1 FOR UPDATE",
                )
                .await?,
            lines_of: db
                .prepare(
                    "SELECT order_id, product_id, quantity, unit_price_cents, name FROM order_lines \
                     WHERE order_id = ANY($1) ORDER BY order_id, product_id",
                )
                .await?,
            clear: db
                .prepare(
                    "DELETE FROM saga_deadlines WHERE ctid IN (SELECT ctid FROM saga_deadlines \
                     WHERE kind = $1 AND aggregate_id = $2 FOR UPDATE SKIP LOCKED)",
                )
                .await?,
            price_line: db
                .prepare(
                    "UPDATE order_lines SET unit_price_cents = $3, name = $4 \
                     WHERE order_id = $1 AND product_id = $2",
                )
                .await?,
            set_total: db
                .prepare("UPDATE orders SET total_cents = $2, currency = $3 WHERE id = $1")
                .await?,
            set_status: db
                .prepare("UPDATE orders SET status = $2, updated_at = $3 WHERE id = $1")
                .await?,
        })
    }
}

impl ProductStatements {
    pub async fn prepare(db: &Client) -> anyhow::Result<Self> {
        Ok(Self {
            dedupe: db.prepare(DEDUPE).await?,
            claim: db
                .prepare(
                    "INSERT INTO reservations (order_id, status) VALUES ($1, $2) \
                     ON CONFLICT DO NOTHING",
                )
                .await?,
            lock_on_hand: db
                .prepare(
                    "SELECT id, name, price_cents, stock, active FROM products \
                     WHERE id = ANY($1) ORDER BY id FOR UPDATE",
                )
                .await?,
            move_stock: db
                .prepare(
                    "UPDATE products SET stock = stock + $2, version = version + 1 WHERE id = $1",
                )
                .await?,
            insert_lines: db
                .prepare(
                    "INSERT INTO reservation_lines (order_id, product_id, quantity, \
                     unit_price_cents, name) SELECT $1, unnest($2::uuid[]), unnest($3::int4[]), \
                     unnest($4::int8[]), unnest($5::text[])",
                )
                .await?,
            outbox: db.prepare(OUTBOX).await?,
        })
    }
}
