//! The clients: each places orders through the gateway as its own customer, each order
//! with its own `Idempotency-Key`, either back to back (saturation) or on a shared
//! schedule of `rate` orders per second (paced). They never read an order back: what
//! became of each is read from the database after the load (see `observe`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value};
use uuid::Uuid;

/// Attempts of one order whose request never reached the gateway (a kept-alive
/// connection it had just closed); the key makes a resend safe.
const ATTEMPTS: usize = 3;
/// Most `Retry-After` waits for one order before it counts as refused.
const MAX_WAITS: u32 = 60;

/// How the clients place their orders.
#[derive(Clone, Copy, Debug)]
pub enum Pace {
    /// Each client places its next order as soon as the last one is answered.
    Saturate,
    /// Orders are due at `rate` per second; whichever client is free takes the next.
    Rate(u64),
}

/// An order the gateway accepted (202).
pub struct Placed {
    pub id: Uuid,
    /// When its first attempt was sent (wall clock: compared with the database's times).
    pub sent: SystemTime,
    /// From sending it to its 202.
    pub post: Duration,
}

/// What the clients did.
#[derive(Default)]
pub struct Tally {
    pub placed: Vec<Placed>,
    /// Answers other than 202, by status (`transport` for no answer).
    pub refused: BTreeMap<String, u64>,
    /// Orders sent again after their request never reached the gateway.
    pub resent: u64,
    /// 503 `saga_backlog_full` answers: the order was sent again after `Retry-After`,
    /// as a client should (its time to 202 includes the waits).
    pub shed: u64,
}

impl Tally {
    /// Adds what `other` counted to this tally.
    pub fn extend(&mut self, other: Tally) {
        self.placed.extend(other.placed);
        self.resent += other.resent;
        self.shed += other.shed;
        for (status, n) in other.refused {
            *self.refused.entry(status).or_default() += n;
        }
    }
}

/// What the clients need.
pub struct Load {
    pub gateway: String,
    /// Concurrent clients.
    pub clients: usize,
    /// An access token per customer; client `c`'s `n`-th order is customer
    /// `(c + n × clients) mod customers`'s (its own when there are as many as clients).
    pub tokens: Vec<String>,
    pub products: Vec<Uuid>,
    /// Prefix of the idempotency keys (unique per run and phase).
    pub keys: String,
}

impl Load {
    /// Places orders from every client at `pace` for `length`; what happened.
    pub async fn run(self: &Arc<Self>, pace: Pace, length: Duration) -> Tally {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(self.clients)
            .tcp_nodelay(true)
            .timeout(Duration::from_secs(30))
            .build()
            .expect("an HTTP client");
        let start = Instant::now();
        let end = start + length;
        let tickets = Arc::new(AtomicU64::new(0));
        let mut clients = tokio::task::JoinSet::new();
        for client in 0..self.clients {
            let (load, http, tickets) = (Arc::clone(self), http.clone(), Arc::clone(&tickets));
            clients.spawn(async move {
                let mut tally = Tally::default();
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ ((client as u64 + 1) * 0x2545_F491));
                for n in 0.. {
                    if let Pace::Rate(rate) = pace {
                        let ticket = tickets.fetch_add(1, Ordering::Relaxed);
                        let due = start + Duration::from_secs_f64(ticket as f64 / rate as f64);
                        if due >= end {
                            break;
                        }
                        tokio::time::sleep_until(due.into()).await;
                    } else if Instant::now() >= end {
                        break;
                    }
                    let key = format!("{}-{client}-{n}", load.keys);
                    let body = json!({"lines": load.lines(&mut rng)});
                    let customer = (client + n * load.clients) % load.tokens.len();
                    load.place(&http, customer, &key, &body, &mut tally).await;
                }
                tally
            });
        }
        let mut all = Tally::default();
        for tally in clients.join_all().await {
            all.extend(tally);
        }
        all
    }

    /// 1–3 distinct products, 1–3 units each.
    fn lines(&self, rng: &mut Rng) -> Vec<Value> {
        let count = 1 + rng.below(3.min(self.products.len()));
        let mut chosen: Vec<Uuid> = Vec::with_capacity(count);
        while chosen.len() < count {
            let product = self.products[rng.below(self.products.len())];
            if !chosen.contains(&product) {
                chosen.push(product);
            }
        }
        chosen
            .iter()
            .map(|id| json!({"product_id": id, "quantity": 1 + rng.below(3)}))
            .collect()
    }

    async fn place(
        &self,
        http: &reqwest::Client,
        customer: usize,
        key: &str,
        body: &Value,
        tally: &mut Tally,
    ) {
        let sent = SystemTime::now();
        let started = Instant::now();
        let mut attempt = 0;
        let mut waits = 0;
        while attempt < ATTEMPTS {
            attempt += 1;
            let response = http
                .post(format!("{}/api/v1/orders", self.gateway))
                .bearer_auth(&self.tokens[customer])
                .header("idempotency-key", key)
                .json(body)
                .send()
                .await;
            let response = match response {
                Ok(response) => response,
                Err(e) if attempt < ATTEMPTS && (e.is_connect() || e.is_request()) => {
                    tally.resent += 1;
                    continue;
                }
                Err(_) => break,
            };
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if let (503, Some(secs), true) = (status, retry_after, waits < MAX_WAITS) {
                // Shed at the door: wait as told and send the same order again.
                waits += 1;
                tally.shed += 1;
                attempt -= 1;
                tokio::time::sleep(Duration::from_secs(secs)).await;
                continue;
            }
            let answer: Value = response.json().await.unwrap_or(Value::Null);
            let id = answer["id"].as_str().and_then(|id| id.parse().ok());
            match (status, id) {
                (202, Some(id)) => tally.placed.push(Placed {
                    id,
                    sent,
                    post: started.elapsed(),
                }),
                _ => *tally.refused.entry(status.to_string()).or_default() += 1,
            }
            return;
        }
        *tally.refused.entry("transport".to_owned()).or_default() += 1;
    }
}

/// xorshift64*: the orders' lines, the same for every run of a client.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n.max(1)
    }
}
