//! The invariants, read where they live: the services' databases and the dead-letter
//! topic. Never from a log line or an API answer alone.
//!
//! - every order final: CONFIRMED, REJECTED or CANCELLED (no PENDING left);
//! - every account final: ACTIVE or REJECTED;
//! - no order or registration REJECTED for `timeout`: these faults lose no event, so a
//!   saga deadline that gave up means a step stood still through all its attempts;
//! - per product, `stock before − stock after = quantity of CONFIRMED orders`, and
//!   product-service holds a reservation for exactly the CONFIRMED orders;
//! - stock never below 0 (sampled during the run, and at the end);
//! - one order per `Idempotency-Key`, and it is the order the client was answered;
//! - nothing on the dead-letter topic: every event was a good one.

use std::collections::{BTreeMap, HashMap};

use comanda_outbox::dead_letters;
use uuid::Uuid;

use crate::db::Databases;

/// The order states nothing moves out of by itself.
pub const FINAL_ORDER: [&str; 3] = ["CONFIRMED", "REJECTED", "CANCELLED"];

/// The checks' findings: what held and what did not.
#[derive(Debug, Default)]
pub struct Verdict {
    /// One line per check, `ok` or `FAIL`.
    pub lines: Vec<String>,
    /// Every violation found.
    pub violations: Vec<String>,
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

    // None of the faults loses an event (the broker is paused, never emptied), so a saga
    // deadline that gave up means a step stood still for all its attempts: a stall.
    let orders_given_up = rejections.get("timeout").copied().unwrap_or(0);
    let accounts_given_up = db.accounts_timed_out().await;
    let mut given_up = Vec::new();
    if orders_given_up > 0 {
        given_up.push(format!(
            "{orders_given_up} orders REJECTED for timeout: no stock answer in any attempt"
        ));
    }
    if accounts_given_up > 0 {
        given_up.push(format!(
            "{accounts_given_up} registrations REJECTED for timeout: no profile answer in any attempt"
        ));
    }
    verdict.check(
        "no saga given up by its deadline (these faults lose no event)".to_owned(),
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
            "stock conserved for all {} products: before − after = CONFIRMED quantity",
            evidence.before.len()
        ),
        products,
    );
    verdict.check(
        "product-service holds a reservation for exactly the CONFIRMED orders".to_owned(),
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
