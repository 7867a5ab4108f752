//! The invariants, read where they live: the services' databases, the provider's
//! sessions and the dead-letter topic. Never from a log line or an API answer alone.
//!
//! - every order final: PAID, REJECTED, CANCELLED or EXPIRED (no PENDING left, nor
//!   CONFIRMED: that one waits for its payment);
//! - every account final: ACTIVE or REJECTED;
//! - no saga given up by its deadline: no order or registration REJECTED for `timeout`,
//!   no order EXPIRED that its customer meant to pay (these faults lose no event, so a
//!   deadline that fired means a step stood still through all its attempts);
//! - per product, `stock before − stock after = quantity of PAID (and CONFIRMED)
//!   orders`, and product-service holds a reservation for exactly those orders;
//! - stock never below 0 (sampled during the run, and at the end);
//! - the money ([`crate::money`]): (a) every order with money captured is PAID, or
//!   CANCELLED/EXPIRED with its charge refunded (and the refund shown); (b) no order
//!   charged twice, one checkout session per payment; (c) no refund without a charge;
//!   (d) every PAID order has exactly one captured, unrefunded charge; and no payment or
//!   session left in between;
//! - one order per `Idempotency-Key`, and it is the order the client was answered;
//! - nothing on the dead-letter topic: every event was a good one.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use comanda_outbox::dead_letters;
use uuid::Uuid;

use crate::client::Client;
use crate::db::Databases;
use crate::money::{self, Audit};

/// The order states nothing moves out of by itself (CONFIRMED waits for its payment,
/// or its deadline).
pub const FINAL_ORDER: [&str; 4] = ["PAID", "REJECTED", "CANCELLED", "EXPIRED"];

/// The checks' findings: what held and what did not.
#[derive(Debug, Default)]
pub struct Verdict {
    /// One line per check, `ok` or `FAIL`.
    pub lines: Vec<String>,
    /// Every violation found.
    pub violations: Vec<String>,
    /// Orders the money checks found wrong, with why (a few, to trace).
    pub troubled: Vec<(Uuid, String)>,
}

impl Verdict {
    fn check(&mut self, what: String, problems: Vec<String>) {
        let mark = if problems.is_empty() { "ok  " } else { "FAIL" };
        self.lines.push(format!("{mark} {what}"));
        self.violations.extend(problems);
    }
}

/// Everything the checks need besides the databases.
pub struct Evidence<'a> {
    /// Stock per product before the load.
    pub before: &'a BTreeMap<Uuid, i64>,
    /// The lowest stock sampled during the run.
    pub lowest_seen: i64,
    /// The order each key was answered with.
    pub answered: &'a HashMap<String, String>,
    /// Orders their customers left unpaid on purpose: the only ones that may EXPIRE.
    pub left_unpaid: &'a HashSet<String>,
    /// The payment provider (its list of sessions).
    pub provider: &'a Client,
    /// The broker, and the topic prefix of the run.
    pub brokers: &'a str,
    /// `<prefix>failed.send.event.dlq`.
    pub dlq_topic: &'a str,
}

/// Runs every check.
pub async fn verify(db: &Databases, evidence: &Evidence<'_>) -> Verdict {
    let mut verdict = Verdict::default();

    let orders = db.orders_by_status().await;
    let unfinished: Vec<String> = orders
        .iter()
        .filter(|(status, _)| !FINAL_ORDER.contains(&status.as_str()))
        .map(|(status, count)| format!("{count} orders still {status}"))
        .collect();
    let total: i64 = orders.values().sum();
    let rejections = db.rejections().await;
    verdict.check(
        format!("every order is final ({total} orders: {orders:?}; REJECTED for {rejections:?})"),
        unfinished,
    );

    let money = db.order_money().await;
    // None of the faults loses an event (the broker is paused, never emptied), so a saga
    // deadline that gave up means a step stood still for all its attempts: a stall.
    // EXPIRED is the payment deadline: right for an order nobody paid, so only those its
    // customer left unpaid on purpose may end there. An order the customer meant to pay
    // whose checkout came too late (or whose charge reached order-service after the
    // deadline, then refunded) is a payment saga that stood still for 45 s.
    let orders_given_up = rejections.get("timeout").copied().unwrap_or(0);
    let expired: Vec<Uuid> = money
        .iter()
        .filter(|o| o.status == "EXPIRED")
        .map(|o| o.id)
        .collect();
    let expired_meant_to_pay: Vec<Uuid> = expired
        .iter()
        .copied()
        .filter(|id| !evidence.left_unpaid.contains(&id.to_string()))
        .collect();
    let accounts_given_up = db.accounts_timed_out().await;
    let mut given_up = Vec::new();
    if orders_given_up > 0 {
        given_up.push(format!(
            "{orders_given_up} orders REJECTED for timeout: no stock answer in any attempt"
        ));
    }
    if let Some(id) = expired_meant_to_pay.first() {
        given_up.push(format!(
            "{} orders EXPIRED that their customers meant to pay, e.g. {id}",
            expired_meant_to_pay.len()
        ));
    }
    if accounts_given_up > 0 {
        given_up.push(format!(
            "{accounts_given_up} registrations REJECTED for timeout: no profile answer in any attempt"
        ));
    }
    verdict.check(
        format!(
            "no saga given up by its deadline (these faults lose no event; {} EXPIRED, \
             {} of them left unpaid on purpose)",
            expired.len(),
            expired.len() - expired_meant_to_pay.len()
        ),
        given_up,
    );

    let accounts = db.accounts_by_status().await;
    let unfinished: Vec<String> = accounts
        .iter()
        .filter(|(status, _)| status.as_str() == "PENDING")
        .map(|(status, count)| format!("{count} accounts still {status}"))
        .collect();
    verdict.check(format!("every account is final ({accounts:?})"), unfinished);

    let (products, reservations) = db.stock_mismatches(evidence.before).await;
    verdict.check(
        format!(
            "stock conserved for all {} products: before − after = PAID (+ CONFIRMED) quantity",
            evidence.before.len()
        ),
        products,
    );
    verdict.check(
        "product-service holds a reservation for exactly the PAID (+ CONFIRMED) orders".to_owned(),
        reservations,
    );

    let lowest_now = db.lowest_stock().await;
    let lowest = lowest_now.min(evidence.lowest_seen);
    let guarded = db.stock_check_exists().await;
    let mut negative = Vec::new();
    if lowest < 0 {
        negative.push(format!("stock reached {lowest}"));
    }
    if !guarded {
        negative.push("products lost its CHECK (stock >= 0)".to_owned());
    }
    verdict.check(
        format!(
            "stock never below 0 (lowest seen {lowest}; CHECK (stock >= 0) present: {guarded})"
        ),
        negative,
    );

    let audit = audit_money(db, evidence.provider).await;
    money_checks(&mut verdict, audit);

    let (keys, problems) = db.key_violations(evidence.answered).await;
    verdict.check(
        format!(
            "one order per Idempotency-Key ({keys} keys, {total} orders, {} answered to clients)",
            evidence.answered.len()
        ),
        problems,
    );

    let dead = dead_letters(evidence.brokers, evidence.dlq_topic).await;
    let problems = dead
        .iter()
        .map(|(what, count)| format!("{count} dead-lettered: {what}"))
        .collect();
    let count: u64 = dead.values().sum();
    verdict.check(format!("{count} events dead-lettered"), problems);

    verdict
}

/// The money audit of the run as it stands: orders, payments and sessions, read now.
pub async fn audit_money(db: &Databases, provider: &Client) -> Audit {
    let orders = db.order_money().await;
    let payments = db.payments().await;
    let sessions = money::sessions(provider).await;
    money::audit(&orders, &payments, &sessions)
}

/// The money checks' lines (see [`crate::money::Audit`]).
fn money_checks(verdict: &mut Verdict, audit: Audit) {
    verdict.troubled.extend(audit.troubled.iter().cloned());
    verdict.check(
        format!(
            "every charged order is PAID, or CANCELLED/EXPIRED and refunded ({} orders charged, \
             {} sessions refunded)",
            audit.orders_charged, audit.sessions_refunded
        ),
        audit.charged,
    );
    verdict.check(
        format!(
            "no order charged twice; one checkout session per payment ({} sessions: {:?})",
            audit.sessions.values().sum::<usize>(),
            audit.sessions
        ),
        audit.twice,
    );
    verdict.check(
        format!(
            "no refund without a charge ({} orders show a refund)",
            audit.orders_refunded
        ),
        audit.refund_without_charge,
    );
    verdict.check(
        format!(
            "every PAID order has exactly one captured, unrefunded charge ({} PAID)",
            audit.orders_paid
        ),
        audit.paid,
    );
    verdict.check(
        format!(
            "no payment or session left in between (payments: {:?})",
            audit.payments
        ),
        audit.unsettled,
    );
}

/// Waits (up to `within`) until no order or account is left in between, stock matches
/// the PAID and CONFIRMED orders and the money audit is clean (refunds and late charges
/// come after the orders end); prints progress every 10 s. The checks come after,
/// either way. Orders nobody pays EXPIRE after order-service's payment timeout, so that
/// must be well inside `within`.
pub async fn settle(
    db: &Databases,
    provider: &Client,
    before: &BTreeMap<Uuid, i64>,
    within: Duration,
) -> Duration {
    let started = Instant::now();
    let mut said = Instant::now();
    loop {
        let orders = db.orders_by_status().await;
        let open: i64 = ["PENDING", "CONFIRMED"]
            .iter()
            .filter_map(|status| orders.get(*status))
            .sum();
        let accounts = db.accounts_by_status().await.get("PENDING").copied();
        let (products, reservations) = db.stock_mismatches(before).await;
        let audit = audit_money(db, provider).await;
        let settled = open == 0
            && accounts.is_none()
            && products.is_empty()
            && reservations.is_empty()
            && audit.is_clean();
        if settled || started.elapsed() >= within {
            return started.elapsed();
        }
        if said.elapsed() >= Duration::from_secs(10) {
            println!(
                "chaos: settling for {:.0}s: {open} orders PENDING or CONFIRMED, {} accounts \
                 PENDING, {} products and {} reservation sets off, {} money problems",
                started.elapsed().as_secs_f64(),
                accounts.unwrap_or(0),
                products.len(),
                reservations.len(),
                audit.problems()
            );
            said = Instant::now();
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Every entry of the dead-letter topic, from its start, grouped by event type,
/// consumer and error (read with `comanda_outbox::dead_letters`, as `cargo xtask dlq
/// list` reads it). An entry replayed since still counts: it was dead-lettered.
async fn dead_letters(brokers: &str, topic: &str) -> BTreeMap<String, u64> {
    let ledger = dead_letters::read(brokers, topic)
        .await
        .expect("reading the dead-letter topic");
    let mut found = BTreeMap::new();
    for (entry, _replayed) in ledger.entries() {
        let error: String = entry.error.chars().take(160).collect();
        let what = format!(
            "{} by {}: {error}",
            entry.event_type.as_deref().unwrap_or("?"),
            entry.consumer
        );
        *found.entry(what).or_default() += 1;
    }
    found
}
