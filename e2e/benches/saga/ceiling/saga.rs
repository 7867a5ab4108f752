//! One client of the ceiling: an order's three transactions, statement for statement
//! as the services write them.

use std::time::{Duration, SystemTime};

use comanda_outbox::{topics, Envelope};
use serde_json::{json, Value};
use tokio_postgres::{Client, Statement};
use uuid::Uuid;

use super::statements::{ProductStatements, Statements};
use super::{connect, Product, PREFIX};

/// One client: its customer, its connections and statements.
pub struct Saga {
    order_db: Client,
    product_db: Client,
    orders: Statements,
    products: ProductStatements,
    user: Uuid,
    catalogue: Vec<Product>,
    rng: u64,
    placed: u64,
}

/// An order's lines: (product, quantity).
type Lines = Vec<(Uuid, i32)>;

impl Saga {
    pub async fn connect(
        order_url: &str,
        product_url: &str,
        client: usize,
        catalogue: &[Product],
    ) -> anyhow::Result<Self> {
        let order_db = connect(order_url).await?;
        let product_db = connect(product_url).await?;
        Ok(Self {
            orders: Statements::prepare(&order_db).await?,
            products: ProductStatements::prepare(&product_db).await?,
            order_db,
            product_db,
            user: Uuid::new_v4(),
            catalogue: catalogue.to_vec(),
            rng: 0x9E37_79B9_7F4A_7C15 ^ ((client as u64 + 1) * 0x2545_F491),
            placed: 0,
        })
    }

    fn below(&mut self, n: usize) -> usize {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n.max(1)
    }

    /// 1–3 distinct products, 1–3 units each, in product order (as order-service keeps
    /// them).
    fn lines(&mut self) -> Lines {
        let count = 1 + self.below(3.min(self.catalogue.len()));
        let mut lines: Lines = Vec::with_capacity(count);
        while lines.len() < count {
            let pick = self.below(self.catalogue.len());
            let product = self.catalogue[pick].0;
            if lines.iter().all(|(id, _)| *id != product) {
                lines.push((product, 1 + self.below(3) as i32));
            }
        }
        lines.sort();
        lines
    }

    pub async fn one_order(&mut self) -> anyhow::Result<()> {
        let lines = self.lines();
        let request = self.place(&lines).await?;
        let reply = self.reserve(&request).await?;
        self.confirm(&reply).await
    }

    /// `POST /orders`' transaction; the stock request it published.
    async fn place(&mut self, lines: &Lines) -> anyhow::Result<Envelope> {
        let s = &self.orders;
        let id = Uuid::now_v7();
        let now = SystemTime::now();
        let data = json!({
            "order_id": id,
            "user_id": self.user,
            "lines": lines.iter().map(|(p, q)| json!({"product_id": p, "quantity": q})).collect::<Vec<_>>(),
        });
        let response = json!({
            "id": id, "user_id": self.user, "status": "PENDING", "lines": data["lines"],
            "total_cents": null, "currency": null, "shortfalls": null, "rejection_reason": null,
            "cancellation_reason": null, "payment": null, "refund": null,
        });
        let event = Envelope::new(
            topics::ORDER_CREATED_PENDING,
            1,
            "order-service",
            id.to_string(),
            data,
        );
        self.placed += 1;
        let key = format!("bench-{}-{}", self.user, self.placed);
        let products: Vec<Uuid> = lines.iter().map(|(p, _)| *p).collect();
        let quantities: Vec<i32> = lines.iter().map(|(_, q)| *q).collect();
        let tx = self.order_db.transaction().await?;
        let hash = "0".repeat(64);
        tx.execute(&s.claim_key, &[&self.user, &key, &hash, &202i16, &response])
            .await?;
        tx.execute(&s.lock_user, &[&self.user.to_string()]).await?;
        tx.query_one(&s.count_open, &[&self.user, &vec!["PENDING", "CONFIRMED"]])
            .await?;
        tx.execute(&s.insert_order, &[&id, &self.user, &"PENDING", &now, &now])
            .await?;
        tx.execute(&s.insert_lines, &[&id, &products, &quantities])
            .await?;
        append(&tx, &s.outbox, &event).await?;
        record(&tx, &s.timeline, id, &event).await?;
        let due = now + Duration::from_secs(30);
        tx.execute(
            &s.schedule,
            &[&"order.stock_request", &id, &due, &None::<Value>],
        )
        .await?;
        tx.commit().await?;
        Ok(event)
    }

    /// product-service's inbox transaction for the stock request; its reply.
    async fn reserve(&mut self, request: &Envelope) -> anyhow::Result<Envelope> {
        let s = &self.products;
        let order_id: Uuid = request.data["order_id"]
            .as_str()
            .unwrap_or_default()
            .parse()?;
        let tx = self.product_db.transaction().await?;
        let topic = format!("{PREFIX}{}", topics::ORDER_CREATED_PENDING);
        tx.execute(&s.dedupe, &[&"product-service", &request.id, &topic])
            .await?;
        tx.execute(&s.claim, &[&order_id, &"RESERVED"]).await?;
        let wanted: Vec<(Uuid, i32)> = request.data["lines"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| {
                Some((
                    l["product_id"].as_str()?.parse().ok()?,
                    l["quantity"].as_i64()? as i32,
                ))
            })
            .collect();
        let ids: Vec<Uuid> = wanted.iter().map(|(p, _)| *p).collect();
        let on_hand = tx.query(&s.lock_on_hand, &[&ids]).await?;
        let mut held = Vec::with_capacity(on_hand.len());
        for row in &on_hand {
            let product: Uuid = row.get(0);
            let quantity = wanted
                .iter()
                .find(|(p, _)| *p == product)
                .map_or(0, |(_, q)| *q);
            anyhow::ensure!(
                row.get::<_, i32>(3) >= quantity && row.get::<_, bool>(4),
                "short"
            );
            held.push((
                product,
                quantity,
                row.get::<_, i64>(2),
                row.get::<_, String>(1),
            ));
        }
        for (product, quantity, _, _) in &held {
            tx.execute(&s.move_stock, &[product, &-quantity]).await?;
        }
        let columns = (
            held.iter().map(|h| h.0).collect::<Vec<_>>(),
            held.iter().map(|h| h.1).collect::<Vec<_>>(),
            held.iter().map(|h| h.2).collect::<Vec<_>>(),
            held.iter().map(|h| h.3.clone()).collect::<Vec<_>>(),
        );
        tx.execute(
            &s.insert_lines,
            &[&order_id, &columns.0, &columns.1, &columns.2, &columns.3],
        )
        .await?;
        let lines: Vec<Value> = held
            .iter()
            .map(|(p, q, price, name)| json!({"product_id": p, "quantity": q, "unit_price_cents": price, "name": name}))
            .collect();
        let data = json!({"order_id": order_id, "lines": lines});
        let reply = Envelope::new(
            topics::STOCK_RESERVED,
            1,
            "product-service",
            order_id.to_string(),
            data,
        )
        .caused_by(request);
        append(&tx, &s.outbox, &reply).await?;
        tx.commit().await?;
        Ok(reply)
    }

    /// order-service's inbox transaction for the reply: CONFIRMED, and the payment asked for.
    async fn confirm(&mut self, reply: &Envelope) -> anyhow::Result<()> {
        let s = &self.orders;
        let order_id: Uuid = reply.data["order_id"]
            .as_str()
            .unwrap_or_default()
            .parse()?;
        let tx = self.order_db.transaction().await?;
        let topic = format!("{PREFIX}{}", topics::STOCK_RESERVED);
        tx.execute(&s.dedupe, &[&"order-service", &reply.id, &topic])
            .await?;
        let order = tx.query_one(&s.lock_order, &[&order_id]).await?;
        let user: Uuid = order.get(1);
        tx.query(&s.lines_of, &[&vec![order_id]]).await?;
        record(&tx, &s.timeline, order_id, reply).await?;
        tx.execute(&s.clear, &[&"order.stock_request", &order_id])
            .await?;
        let mut total = 0i64;
        for line in reply.data["lines"].as_array().into_iter().flatten() {
            let product: Uuid = line["product_id"].as_str().unwrap_or_default().parse()?;
            let price = line["unit_price_cents"].as_i64().unwrap_or(0);
            total += price * line["quantity"].as_i64().unwrap_or(0);
            let name = line["name"].as_str().unwrap_or_default();
            tx.execute(&s.price_line, &[&order_id, &product, &price, &name])
                .await?;
        }
        tx.execute(&s.set_total, &[&order_id, &total, &"EUR"])
            .await?;
        tx.execute(
            &s.set_status,
            &[&order_id, &"CONFIRMED", &SystemTime::now()],
        )
        .await?;
        let pay_by = chrono::Utc::now() + chrono::Duration::seconds(900);
        let data = json!({
            "order_id": order_id, "user_id": user, "amount_cents": total, "currency": "EUR",
            "pay_by": pay_by,
        });
        let request = Envelope::new(
            topics::PAYMENT_REQUESTED,
            1,
            "order-service",
            order_id.to_string(),
            data,
        )
        .caused_by(reply);
        append(&tx, &s.outbox, &request).await?;
        record(&tx, &s.timeline, order_id, &request).await?;
        tx.execute(
            &s.schedule,
            &[&"order.payment", &order_id, &pay_by, &None::<Value>],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The outbox row of `event`, as `comanda_outbox::append` writes it.
async fn append(
    tx: &tokio_postgres::Transaction<'_>,
    statement: &Statement,
    event: &Envelope,
) -> anyhow::Result<()> {
    let topic = format!("{PREFIX}{}", event.event_type);
    let payload = serde_json::to_value(event)?;
    tx.execute(
        statement,
        &[
            &event.id,
            &topic,
            &event.aggregate_id,
            &event.event_type,
            &event.correlation_id.as_str(),
            &event.traceparent(),
            &payload,
        ],
    )
    .await?;
    Ok(())
}

/// The timeline entry of `event`, as order-service's `timeline::record` writes it.
async fn record(
    tx: &tokio_postgres::Transaction<'_>,
    statement: &Statement,
    order_id: Uuid,
    event: &Envelope,
) -> anyhow::Result<()> {
    tx.execute(
        statement,
        &[
            &order_id,
            &event.id,
            &event.event_type,
            &event.source,
            &event.correlation_id.as_str(),
            &event.causation_id,
            &event.occurred_at,
        ],
    )
    .await?;
    Ok(())
}
