//! A stack to load: the whole system from the bench's binaries on a broker of its own,
//! its limits raised for
//! a load from one machine, customers registered and logged in, and products stocked
//! for every order the run can place, all before the clock starts.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use comanda_testkit::broker::PrivateBroker;
use comanda_testkit::TestEnv;
use e2e::stack::{Options, Stack};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::load::Load;

/// The administrator auth-service bootstraps (its dev settings).
const ADMIN: (&str, &str) = ("admin@comanda.local", "comanda-admin-dev");
const PASSWORD: &str = "a bench customer's long secret";
/// Units of each product: far more than a run orders, so every order is CONFIRMED.
const STOCK: i64 = 100_000_000;
/// Customers signing up (and logging in) at once.
const SIGN_UPS_AT_ONCE: usize = 32;
/// How long set-up steps (an account becoming ACTIVE) may take.
const PATIENCE: Duration = Duration::from_secs(60);

/// What every run of a bench starts its processes with.
#[derive(Debug, Clone)]
pub struct Launch {
    /// Where the release binaries are (`BENCH_BIN_DIR`); `None`: debug builds.
    pub bin_dir: Option<PathBuf>,
    /// The consumers' `kafka.fetch_wait_max_ms` (`--fetch-wait`).
    pub fetch_wait_ms: u64,
}

/// A started stack with its customers and catalogue.
pub struct Run {
    /// The system (dropped, so stopped, before its broker).
    pub stack: Stack,
    /// A tansu of the run's own: its CPU is the run's alone, and other tests' traffic
    /// on the shared broker cannot slow it.
    pub broker: PrivateBroker,
    /// An access token per customer.
    pub tokens: Vec<String>,
    /// Concurrent clients (at most as many as customers).
    pub clients: usize,
    /// The catalogue's product ids.
    pub products: Vec<Uuid>,
    /// Names this run's keys and e-mails.
    pub name: String,
}

/// The limits a real deployment puts on one client, lifted: every customer here comes
/// from 127.0.0.1 and orders far more than a person would, and holds every order open
/// (CONFIRMED, awaiting a payment the bench never makes). `payment.timeout` stays
/// 900 s: no order expires during a run.
fn options(launch: &Launch, extra: Vec<(String, String, String)>) -> Options {
    let env = [
        ("gateway", "COMANDA__RATE_LIMIT__PER_MINUTE", "60000000"),
        ("gateway", "COMANDA__RATE_LIMIT__BURST", "1000000"),
        (
            "gateway",
            "COMANDA__RATE_LIMIT__ORDERS__PER_MINUTE",
            "60000000",
        ),
        ("gateway", "COMANDA__RATE_LIMIT__ORDERS__BURST", "1000000"),
        (
            "order-service",
            "COMANDA__ORDERS__MAX_OPEN_PER_USER",
            "100000000",
        ),
        ("auth-service", "COMANDA__AUTH__ACCESS_TTL_SECS", "86400"),
    ];
    Options {
        env: env
            .iter()
            .map(|(p, k, v)| ((*p).to_owned(), (*k).to_owned(), (*v).to_owned()))
            .chain(extra)
            .collect(),
        bin_dir: launch.bin_dir.clone(),
        fetch_wait_ms: Some(launch.fetch_wait_ms),
        ..Options::default()
    }
}

impl Run {
    /// The clients of this run for `phase`: its customers and catalogue, through its
    /// gateway, with idempotency keys of their own (`<run>-<phase>-…`).
    pub fn load(&self, phase: &str) -> Arc<Load> {
        Arc::new(Load {
            gateway: self.stack.gateway.clone(),
            clients: self.clients,
            tokens: self.tokens.clone(),
            products: self.products.clone(),
            keys: format!("{}-{phase}", self.name),
        })
    }

    /// Starts the system and prepares `clients` clients, each its own customer, and
    /// `products` products.
    pub async fn start(launch: &Launch, clients: usize, products: usize) -> anyhow::Result<Self> {
        Self::start_with(launch, (clients, clients), products, Vec::new()).await
    }

    /// As [`Run::start`], for `(clients, customers)` (customers at least as many),
    /// with `extra` environment as `(process, variable, value)`.
    pub async fn start_with(
        launch: &Launch,
        (clients, customers): (usize, usize),
        products: usize,
        extra: Vec<(String, String, String)>,
    ) -> anyhow::Result<Self> {
        let customers = customers.max(clients);
        let broker = PrivateBroker::start();
        let env = TestEnv::on(broker.brokers()).await;
        let name = env.prefix.trim_end_matches('.').to_owned();
        let stack = Stack::start_with(env, options(launch, extra)).await;
        let http = reqwest::Client::new();
        let gateway = stack.gateway.clone();
        let admin = login(&http, &gateway, ADMIN.0, ADMIN.1).await?;
        let mut catalogue = tokio::task::JoinSet::new();
        for n in 0..products {
            let (http, gateway, admin, name) =
                (http.clone(), gateway.clone(), admin.clone(), name.clone());
            catalogue.spawn(async move { product(&http, &gateway, &admin, &name, n).await });
        }
        let mut people = tokio::task::JoinSet::new();
        // auth-service hashes a few passwords at a time and refuses the rest (503).
        let hashing = Arc::new(tokio::sync::Semaphore::new(SIGN_UPS_AT_ONCE));
        for n in 0..customers {
            let (http, gateway, hashing) = (http.clone(), gateway.clone(), Arc::clone(&hashing));
            let email = format!("bench-{name}-{n}@example.com");
            people.spawn(async move {
                let _turn = hashing.acquire_owned().await?;
                customer(&http, &gateway, &email).await
            });
        }
        let products = catalogue
            .join_all()
            .await
            .into_iter()
            .collect::<Result<_, _>>()?;
        let tokens = people
            .join_all()
            .await
            .into_iter()
            .collect::<Result<_, _>>()?;
        Ok(Self {
            stack,
            broker,
            tokens,
            clients,
            products,
            name,
        })
    }
}

/// `POST url` with a JSON body (and a token); the status and the JSON answer. A 503
/// (auth-service sheds sign-ins beyond what it can hash at once) is sent again after a
/// moment, as a good client does.
async fn post(
    http: &reqwest::Client,
    url: String,
    bearer: Option<&str>,
    body: &Value,
) -> anyhow::Result<(u16, Value)> {
    let until = Instant::now() + PATIENCE;
    loop {
        let mut request = http.post(&url).json(body);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        if status == 503 && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        return Ok((status, response.json().await.unwrap_or(Value::Null)));
    }
}

fn text(value: &Value, field: &str) -> anyhow::Result<String> {
    value[field]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no {field} in {value}"))
}

async fn login(
    http: &reqwest::Client,
    gateway: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<String> {
    let body = json!({"email": email, "password": password});
    let url = format!("{gateway}/api/v1/auth/login");
    let (status, answer) = post(http, url, None, &body).await?;
    anyhow::ensure!(status == 200, "login {email}: {status} {answer}");
    text(&answer, "access_token")
}

/// Product `n` of the run, with [`STOCK`] units; its id.
async fn product(
    http: &reqwest::Client,
    gateway: &str,
    admin: &str,
    run: &str,
    n: usize,
) -> anyhow::Result<Uuid> {
    let body = json!({
        "sku": format!("BENCH-{run}-{n}"),
        "name": format!("Bench product {n}"),
        "category": "bench",
        "price_cents": 100 + n as i64,
        "stock": STOCK,
    });
    let url = format!("{gateway}/api/v1/products");
    let (status, answer) = post(http, url, Some(admin), &body).await?;
    anyhow::ensure!(status == 201, "creating a product: {status} {answer}");
    Ok(text(&answer, "id")?.parse()?)
}

/// Registers `email`, waits until its account is ACTIVE and logs in; the token.
async fn customer(http: &reqwest::Client, gateway: &str, email: &str) -> anyhow::Result<String> {
    let body = json!({"email": email, "password": PASSWORD, "full_name": "Bench Customer"});
    let url = format!("{gateway}/api/v1/auth/register");
    let (status, account) = post(http, url, None, &body).await?;
    anyhow::ensure!(status == 202, "register {email}: {status} {account}");
    let url = format!("{gateway}/api/v1/auth/accounts/{}", text(&account, "id")?);
    let poll = text(&account, "poll_token")?;
    let until = Instant::now() + PATIENCE;
    loop {
        let response = http.get(&url).header("x-poll-token", &poll).send().await?;
        let account: Value = response.json().await.unwrap_or(Value::Null);
        match account["status"].as_str() {
            Some("ACTIVE") => break,
            Some("PENDING") if Instant::now() < until => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            _ => anyhow::bail!("account {email} did not become ACTIVE: {account}"),
        }
    }
    login(http, gateway, email, PASSWORD).await
}
