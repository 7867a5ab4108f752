//! What became of the orders, read from the services' databases after the load (never
//! through the API, and never while the clients run): when each order's stock decision
//! was taken, how far behind the outboxes and inboxes are, and when everything settled.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use comanda_outbox::topics;
use e2e::stack::{Stack, SERVICES};
use tokio_postgres::{Client, NoTls};
use uuid::Uuid;

/// The consumers of the saga's first steps, as (consumer, topic it reads): what the
/// inbox backlog is counted for.
const INBOXES: [(&str, &str); 5] = [
    ("product-service", topics::ORDER_CREATED_PENDING),
    ("order-service", topics::STOCK_RESERVED),
    ("order-service", topics::STOCK_FAILED),
    ("payment-service", topics::PAYMENT_REQUESTED),
    ("order-service", topics::PAYMENT_CREATED),
];

/// A connection to each service's database.
pub struct Databases {
    services: Vec<(&'static str, Client)>,
    pub prefix: String,
    /// The server pids of these connections: the bench's own, not the system's work.
    pub backends: Vec<u32>,
}

/// An order's stock decision.
pub struct Decision {
    /// CONFIRMED or REJECTED (or a later status of a confirmed order).
    pub status: String,
    /// When order-service began the transaction that applied the reply (its inbox's
    /// `processed_at`): the order's status changed when it committed, a moment later.
    pub at: SystemTime,
}

/// Where the saga stands: unpublished outbox rows per service, and per inbox the events
/// published on its topic that it has not applied yet.
pub struct Backlog {
    pub outbox: Vec<(&'static str, i64)>,
    pub inbox: Vec<(&'static str, &'static str, i64)>,
}

impl Backlog {
    fn is_empty(&self) -> bool {
        self.outbox.iter().all(|(_, n)| *n == 0) && self.inbox.iter().all(|(_, _, n)| *n == 0)
    }

    /// "outbox: order 0, product 12 …; inbox: product-service ← order.created.pending 340 …".
    pub fn describe(&self) -> String {
        let outbox: Vec<String> = self
            .outbox
            .iter()
            .map(|(s, n)| format!("{} {n}", s.trim_end_matches("-service")))
            .collect();
        let inbox: Vec<String> = self
            .inbox
            .iter()
            .map(|(consumer, topic, n)| format!("{consumer} <- {topic} {n}"))
            .collect();
        format!(
            "unpublished outbox rows: {}; unapplied inbox events: {}",
            outbox.join(", "),
            inbox.join(", ")
        )
    }
}

impl Databases {
    /// Connects to every service database of `stack`.
    pub async fn connect(stack: &Stack) -> anyhow::Result<Self> {
        let mut services = Vec::new();
        let mut backends = Vec::new();
        for service in SERVICES {
            let (client, connection) =
                tokio_postgres::connect(stack.database(service), NoTls).await?;
            tokio::spawn(connection);
            let pid: i32 = client
                .query_one("SELECT pg_backend_pid()", &[])
                .await?
                .get(0);
            backends.push(u32::try_from(pid)?);
            services.push((service, client));
        }
        Ok(Self {
            services,
            prefix: stack.env().prefix.clone(),
            backends,
        })
    }

    pub fn of(&self, service: &str) -> &Client {
        let found = self.services.iter().find(|(name, _)| *name == service);
        &found
            .unwrap_or_else(|| panic!("no database of {service}"))
            .1
    }

    /// Stock requests order-service sent again (its deadline, `saga.request_timeout_ms`,
    /// passed without an answer) for orders created since `since`: work an overloaded
    /// saga adds to itself.
    pub async fn resent_requests(&self, since: SystemTime) -> anyhow::Result<i64> {
        let row = self
            .of("order-service")
            .query_one(
                "SELECT count(*) - count(DISTINCT kafka_key) FROM outbox \
                 WHERE event_type = $1 AND created_at >= $2",
                &[&topics::ORDER_CREATED_PENDING, &since],
            )
            .await?;
        Ok(row.get(0))
    }

    /// Orders still waiting for their stock decision.
    pub async fn undecided(&self) -> anyhow::Result<i64> {
        let row = self
            .of("order-service")
            .query_one("SELECT count(*) FROM orders WHERE status = 'PENDING'", &[])
            .await?;
        Ok(row.get(0))
    }

    /// The decision of every order created since `since`, by order id: the first stock
    /// reply order-service applied (a resent request may draw a second one).
    pub async fn decisions(&self, since: SystemTime) -> anyhow::Result<HashMap<Uuid, Decision>> {
        let rows = self
            .of("order-service")
            .query(
                "SELECT o.id, o.status, min(m.processed_at) \
                 FROM orders o \
                 JOIN order_events e ON e.order_id = o.id AND e.event_type = ANY($1) \
                 JOIN processed_messages m ON m.event_id = e.event_id \
                 WHERE o.created_at >= $2 \
                 GROUP BY o.id, o.status",
                &[&vec![topics::STOCK_RESERVED, topics::STOCK_FAILED], &since],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let decision = Decision {
                    status: r.get(1),
                    at: r.get(2),
                };
                (r.get(0), decision)
            })
            .collect())
    }

    /// The backlog now.
    pub async fn backlog(&self) -> anyhow::Result<Backlog> {
        let mut outbox = Vec::new();
        let mut published: HashMap<String, i64> = HashMap::new();
        for (service, client) in &self.services {
            let unpublished = client
                .query_one(
                    "SELECT count(*) FROM outbox WHERE published_at IS NULL",
                    &[],
                )
                .await?;
            outbox.push((*service, unpublished.get(0)));
            let rows = client
                .query(
                    "SELECT topic, count(*) FROM outbox WHERE published_at IS NOT NULL GROUP BY topic",
                    &[],
                )
                .await?;
            for row in rows {
                *published.entry(row.get(0)).or_default() += row.get::<_, i64>(1);
            }
        }
        let mut inbox = Vec::new();
        for (consumer, topic) in INBOXES {
            let full = format!("{}{topic}", self.prefix);
            let applied: i64 = self
                .of(consumer)
                .query_one(
                    "SELECT count(*) FROM processed_messages WHERE topic = $1",
                    &[&full],
                )
                .await?
                .get(0);
            let sent = published.get(&full).copied().unwrap_or(0);
            // A consumer may apply an event before the relay has stamped it published
            // (the stamp follows the broker's ack): never below zero.
            inbox.push((consumer, topic, (sent - applied).max(0)));
        }
        Ok(Backlog { outbox, inbox })
    }

    /// Waits until no order is PENDING; false after `patience`.
    pub async fn wait_decided(&self, patience: Duration) -> anyhow::Result<bool> {
        let until = Instant::now() + patience;
        while self.undecided().await? > 0 {
            if Instant::now() >= until {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        Ok(true)
    }

    /// Waits until the saga's first steps are done for every order: every outbox
    /// published, every tracked inbox caught up and payment-service holding no checkout
    /// still to create; false after `patience`.
    pub async fn wait_settled(&self, patience: Duration) -> anyhow::Result<bool> {
        let until = Instant::now() + patience;
        loop {
            let creating: i64 = self
                .of("payment-service")
                .query_one(
                    "SELECT count(*) FROM saga_deadlines WHERE kind = 'payment.create_session'",
                    &[],
                )
                .await?
                .get(0);
            if creating == 0 && self.backlog().await?.is_empty() {
                return Ok(true);
            }
            if Instant::now() >= until {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}
