//! The load: the catalogue an admin sets up, then customers who register, log in and
//! place orders through the gateway, each with its own `Idempotency-Key`, some sent
//! twice on purpose; then pay them at the provider's checkout (see [`pay`]), and cancel
//! some: right away, a few seconds later (racing the payment), or after paying them
//! (so PAID orders are cancelled and refunded).
//!
//! Orders are paced: ticket `i` of `N` may be placed `i × S / N` seconds into the load.
//! A customer held up by a fault takes its tickets late and catches up after, as real
//! clients queue up behind an outage.

mod pay;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::client::{Client, Request};
use crate::rng::Rng;
use pay::Due;

/// The administrator auth-service bootstraps (its dev settings).
const ADMIN: (&str, &str) = ("admin@comanda.local", "comanda-admin-dev");
/// Every customer's password.
const PASSWORD: &str = "chaos monkey's long secret";
/// How long one order placement or cancel is retried before the client gives up.
const PATIENCE: Duration = Duration::from_secs(120);

/// The products of the run: ids and the stock each started with.
pub struct Catalogue {
    /// Product ids, as the API returns them.
    pub ids: Vec<String>,
}

/// Logs the admin in and creates `count` products with `stock` units each.
pub async fn create_catalogue(gateway: &Client, run: &str, count: usize, stock: i64) -> Catalogue {
    let login = json!({"email": ADMIN.0, "password": ADMIN.1});
    let answer = gateway
        .send(&Request::post("/api/v1/auth/login", &login), PATIENCE)
        .await
        .expect("the admin logs in");
    assert_eq!(answer.status, 200, "admin login: {}", answer.body);
    let token = text(&answer.body, "access_token");
    let mut ids = Vec::new();
    for n in 0..count {
        let product = json!({
            "sku": format!("CHAOS-{run}-{n}"),
            "name": format!("Chaos product {n}"),
            "description": "stock for the chaos suite",
            "category": "chaos",
            "price_cents": 100 * (n as i64 + 1),
            "stock": stock,
            "active": true,
        });
        let request = Request::post("/api/v1/products", &product).bearer(&token);
        let answer = gateway
            .send(&request, PATIENCE)
            .await
            .expect("the product is created");
        assert_eq!(answer.status, 201, "creating a product: {}", answer.body);
        ids.push(text(&answer.body, "id"));
    }
    Catalogue { ids }
}

/// What the customers did and saw, for the checks and the report.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Order id the API answered for each `Idempotency-Key`.
    pub orders: HashMap<String, String>,
    /// Cancels answered 200.
    pub cancelled: u64,
    /// Cancels answered 409 (the order was REJECTED, EXPIRED or CANCELLED first).
    pub cancel_refused: u64,
    /// Orders sent a second time on purpose (a double submit) with the same key.
    pub resent: u64,
    /// What the customers did at the provider's checkout.
    pub payments: Payments,
    /// Customers that logged in and ordered.
    pub customers_active: u64,
    /// Customers whose registration was REJECTED.
    pub customers_rejected: u64,
    /// Customers not ACTIVE yet when the load ended (the checks report the account).
    pub customers_waiting: u64,
    /// Answers no good client should get (each a violation), e.g. a 422 on a retry.
    pub unexpected: Vec<String>,
    /// Requests that got no usable answer within their patience (each a violation).
    pub unanswered: Vec<String>,
}

/// What the customers did at the provider's checkout, for the report and the checks.
#[derive(Debug, Default)]
pub struct Payments {
    /// Paid with the good card: the provider answered `paid`.
    pub paid: u64,
    /// Paid with the slow card: `processing`, captured a few seconds later.
    pub paid_slowly: u64,
    /// Paid with the declined card: the provider answered `failed`.
    pub declined: u64,
    /// Checkouts no longer open when the card was entered (the order was cancelled or
    /// expired first, and the session voided or expired).
    pub closed: u64,
    /// Orders that ended before their checkout was seen (REJECTED, or cancelled first).
    pub never_payable: u64,
    /// Orders still waiting for their checkout when the customer stopped looking.
    pub checkout_not_seen: u64,
    /// Cancels sent after the order was paid: each should end in a refund.
    pub cancels_after_paying: u64,
    /// Orders their customer left unpaid on purpose: these should end EXPIRED (or
    /// CANCELLED, when a cancel came first), and only these may.
    pub left_unpaid: HashSet<String>,
}

/// The shared state of the load.
pub struct Load {
    gateway: Arc<Client>,
    /// The provider's checkout, reached directly (as a customer's browser does).
    provider: Arc<Client>,
    run: String,
    products: Vec<String>,
    tickets: AtomicU64,
    total: u64,
    spacing: Duration,
    start: Instant,
    ledger: Mutex<Ledger>,
}

impl Load {
    /// `orders` orders over `seconds`, starting now, on `catalogue`'s products.
    pub fn new(
        gateway: Arc<Client>,
        provider: Arc<Client>,
        run: &str,
        catalogue: &Catalogue,
        orders: u64,
        seconds: u64,
    ) -> Arc<Self> {
        Arc::new(Self {
            gateway,
            provider,
            run: run.to_owned(),
            products: catalogue.ids.clone(),
            tickets: AtomicU64::new(0),
            total: orders,
            spacing: Duration::from_secs(seconds) / orders.max(1) as u32,
            start: Instant::now(),
            ledger: Mutex::new(Ledger::default()),
        })
    }

    /// Runs `customers` customers until every ticket is placed; `late` of them join
    /// during the load (so registrations meet the faults too). Returns the ledger.
    pub async fn run(self: Arc<Self>, customers: usize, late: usize, rng: &mut Rng) -> Ledger {
        let load_time = self.spacing * self.total as u32;
        let mut tasks = Vec::new();
        for n in 0..customers {
            let early = customers - late;
            let join_after = if n < early {
                Duration::ZERO
            } else {
                load_time * (n - early + 1) as u32 / (late + 1) as u32
            };
            let load = Arc::clone(&self);
            let rng = rng.fork();
            tasks.push(tokio::spawn(async move {
                tokio::time::sleep(join_after).await;
                load.customer(n, rng).await;
            }));
        }
        for task in tasks {
            task.await.expect("a customer task panicked");
        }
        std::mem::take(&mut *self.ledger.lock().expect("ledger"))
    }

    /// Whether a customer still waiting for its account should give up: every ticket
    /// is taken, or the load's time is over by a minute (so customers that can never
    /// log in cannot keep the run going forever; the checks report their accounts).
    fn over(&self) -> bool {
        let late = self.start + self.spacing * self.total as u32 + Duration::from_secs(60);
        self.tickets.load(Ordering::Relaxed) >= self.total || Instant::now() > late
    }

    fn record(&self, update: impl FnOnce(&mut Ledger)) {
        update(&mut self.ledger.lock().expect("ledger"));
    }

    /// One customer's life: register, wait until ACTIVE, log in, order until the
    /// tickets run out, paying most orders and cancelling some; then pay and cancel
    /// what is still due.
    async fn customer(&self, n: usize, mut rng: Rng) {
        let email = format!("chaos-{}-{n}@example.com", self.run);
        let Some(token) = self.sign_up(&email).await else {
            return;
        };
        self.record(|l| l.customers_active += 1);
        let mut due = Due::default();
        loop {
            self.cancel_due(&token, &mut due.cancels).await;
            self.pay_due(&token, &mut due, &mut rng).await;
            let ticket = self.tickets.fetch_add(1, Ordering::Relaxed);
            if ticket >= self.total {
                break;
            }
            let at = self.start + self.spacing * ticket as u32;
            tokio::time::sleep_until(at.into()).await;
            let Some(order) = self.place(&token, ticket, &mut rng).await else {
                continue;
            };
            if rng.chance(5) {
                self.cancel(&token, &order).await;
                continue;
            }
            if rng.chance(6) {
                // Races the payment: the checkout may be open, paid or not there yet.
                let after = Duration::from_millis(rng.between(500, 5000));
                due.cancels.push((Instant::now() + after, order.clone()));
            }
            self.plan_payment(order, &mut due, &mut rng);
        }
        // The tickets are out: keep paying and cancelling until nothing is due. Every
        // order leaves CONFIRMED by its payment deadline, so this ends well before the
        // patience runs out unless a saga stands still (the checks then say so).
        let until = Instant::now() + PATIENCE;
        while !due.is_empty() && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(500)).await;
            self.cancel_due(&token, &mut due.cancels).await;
            self.pay_due(&token, &mut due, &mut rng).await;
        }
        let not_seen = due.payments.len() as u64;
        self.record(|l| l.payments.checkout_not_seen += not_seen);
        for (_, order) in std::mem::take(&mut due.cancels) {
            self.cancel(&token, &order).await;
        }
    }

    /// Sends the cancels whose time has come.
    async fn cancel_due(&self, token: &str, cancels: &mut Vec<(Instant, String)>) {
        let now = Instant::now();
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(cancels)
            .into_iter()
            .partition(|(at, _)| *at <= now);
        *cancels = later;
        for (_, order) in due {
            self.cancel(token, &order).await;
        }
    }

    /// Registers `email`, waits until the account is decided and logs in; `None` when
    /// the account was rejected or the load ended first.
    async fn sign_up(&self, email: &str) -> Option<String> {
        let body = json!({"email": email, "password": PASSWORD, "full_name": "Chaos Customer"});
        let registered = self
            .gateway
            .send(&Request::post("/api/v1/auth/register", &body), PATIENCE)
            .await;
        match registered {
            Ok(answer) if answer.status == 202 => {
                let id = text(&answer.body, "id");
                let poll = text(&answer.body, "poll_token");
                if !self.wait_until_decided(&id, &poll).await {
                    return None;
                }
            }
            // A retried registration whose first attempt went through: log in below
            // (401 while the account is still PENDING).
            Ok(answer) if answer.status == 409 => {}
            Ok(answer) => {
                let what = format!("register {email}: {} {}", answer.status, answer.body);
                self.record(|l| l.unexpected.push(what));
                return None;
            }
            Err(error) => {
                self.record(|l| l.unanswered.push(error));
                return None;
            }
        }
        let body = json!({"email": email, "password": PASSWORD});
        loop {
            match self
                .gateway
                .send(&Request::post("/api/v1/auth/login", &body), PATIENCE)
                .await
            {
                Ok(answer) if answer.status == 200 => {
                    return Some(text(&answer.body, "access_token"));
                }
                Ok(answer) if answer.status == 401 && !self.over() => {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Ok(answer) if answer.status == 401 => {
                    self.record(|l| l.customers_waiting += 1);
                    return None;
                }
                Ok(answer) => {
                    let what = format!("login {email}: {} {}", answer.status, answer.body);
                    self.record(|l| l.unexpected.push(what));
                    return None;
                }
                Err(error) => {
                    self.record(|l| l.unanswered.push(error));
                    return None;
                }
            }
        }
    }

    /// Polls the account until it is no longer PENDING; true when ACTIVE. Gives up
    /// when the load is over (the checks then report the account).
    async fn wait_until_decided(&self, id: &str, poll: &str) -> bool {
        let path = format!("/api/v1/auth/accounts/{id}");
        loop {
            let request = Request::get(&path).header("x-poll-token", poll);
            match self.gateway.send(&request, PATIENCE).await {
                Ok(answer) if answer.status == 200 && answer.body["status"] == "ACTIVE" => {
                    return true;
                }
                Ok(answer) if answer.status == 200 && answer.body["status"] == "REJECTED" => {
                    self.record(|l| l.customers_rejected += 1);
                    return false;
                }
                Ok(answer) if answer.status == 200 => {}
                Ok(answer) => {
                    let what = format!("account {id}: {} {}", answer.status, answer.body);
                    self.record(|l| l.unexpected.push(what));
                    return false;
                }
                Err(error) => {
                    self.record(|l| l.unanswered.push(error));
                    return false;
                }
            }
            if self.over() {
                self.record(|l| l.customers_waiting += 1);
                return false;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Places order `ticket` (retrying with its key); its id once accepted.
    async fn place(&self, token: &str, ticket: u64, rng: &mut Rng) -> Option<String> {
        let key = format!("chaos-{}-{ticket}", self.run);
        let body = json!({"lines": self.lines(rng)});
        let request = Request::post("/api/v1/orders", &body)
            .bearer(token)
            .header("idempotency-key", &key);
        let id = match self.gateway.send(&request, PATIENCE).await {
            Ok(answer) if answer.status == 202 => text(&answer.body, "id"),
            Ok(answer) => {
                let what = format!("order {key}: {} {}", answer.status, answer.body);
                self.record(|l| l.unexpected.push(what));
                return None;
            }
            Err(error) => {
                self.record(|l| l.unanswered.push(format!("order {key}: {error}")));
                return None;
            }
        };
        self.record(|l| {
            l.orders.insert(key.clone(), id.clone());
        });
        // A double submit: the same key and body must answer the same order.
        if rng.chance(5) {
            self.record(|l| l.resent += 1);
            match self.gateway.send(&request, PATIENCE).await {
                Ok(answer) if answer.status == 202 && answer.body["id"] == id.as_str() => {}
                Ok(answer) => {
                    let what = format!(
                        "order {key} sent again: {} {} (first answer: order {id})",
                        answer.status, answer.body
                    );
                    self.record(|l| l.unexpected.push(what));
                }
                Err(error) => {
                    self.record(|l| l.unanswered.push(format!("order {key} again: {error}")));
                }
            }
        }
        Some(id)
    }

    /// 1–3 distinct products, 1–5 units each; now and then far more than there is.
    fn lines(&self, rng: &mut Rng) -> Vec<Value> {
        let mut products = self.products.clone();
        rng.shuffle(&mut products);
        let count = rng.between(1, 3.min(products.len() as u64)) as usize;
        products[..count]
            .iter()
            .map(|id| {
                let quantity = if rng.chance(3) {
                    rng.between(20, 60)
                } else {
                    rng.between(1, 5)
                };
                json!({"product_id": id, "quantity": quantity})
            })
            .collect()
    }

    /// Cancels `order`: 200, or 409 when it was REJECTED, EXPIRED or CANCELLED first
    /// (its payment declined, or a retried cancel that had gone through); retried like
    /// any request.
    async fn cancel(&self, token: &str, order: &str) {
        let path = format!("/api/v1/orders/{order}/cancel");
        let body = json!({});
        let request = Request::post(&path, &body).bearer(token);
        match self.gateway.send(&request, PATIENCE).await {
            Ok(answer) if answer.status == 200 => self.record(|l| l.cancelled += 1),
            Ok(answer) if answer.status == 409 => self.record(|l| l.cancel_refused += 1),
            Ok(answer) => {
                let what = format!("cancel {order}: {} {}", answer.status, answer.body);
                self.record(|l| l.unexpected.push(what));
            }
            Err(error) => self.record(|l| l.unanswered.push(error)),
        }
    }
}

fn text(value: &Value, field: &str) -> String {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {value}"))
        .to_owned()
}
