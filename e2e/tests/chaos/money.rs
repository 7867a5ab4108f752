//! The money, read where it lives: what the provider captured and refunded (the
//! sandbox's list of checkout sessions; its `captured` counts a charge that completed
//! after a void too), set against payment-service's `payments` (which order each
//! payment, so each session's `reference`, is for) and what order-service's orders
//! show. Never from an answer the customers got.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use uuid::Uuid;

use crate::client::{Client, Request};

/// How long reading the provider's sessions is retried (it is never killed).
const PATIENCE: Duration = Duration::from_secs(30);

/// An order as order-service stores it, with what it shows of its money.
#[derive(Debug, Clone)]
pub struct OrderMoney {
    /// Order id.
    pub id: Uuid,
    /// `PAID`, `CANCELLED`, …
    pub status: String,
    /// `pending`, `failed`, `succeeded`, or none yet.
    pub payment_status: Option<String>,
    /// `pending`, `succeeded`, or none.
    pub refund_status: Option<String>,
}

/// A payment as payment-service stores it.
#[derive(Debug, Clone)]
pub struct Payment {
    /// Payment id: the `reference` (and idempotency key) of its checkout session.
    pub id: Uuid,
    /// The order it is for (one payment per order).
    pub order_id: Uuid,
    /// `CREATING`, `PENDING`, `SUCCEEDED`, `FAILED`, `VOIDED`, `CANCELLED`, `REFUNDING`,
    /// `REFUNDED`.
    pub status: String,
}

/// A checkout session as the provider lists it.
#[derive(Debug, Clone)]
pub struct Session {
    /// `cs_…`.
    pub id: String,
    /// The payment id it was created for.
    pub reference: String,
    /// `open`, `processing`, `paid`, `failed`, `voided`, `expired`, `refunded`.
    pub status: String,
    /// Money was taken (paid, refunded since, or a charge completed after a void).
    pub captured: bool,
}

/// Every session the provider holds.
pub async fn sessions(provider: &Client) -> Vec<Session> {
    let request = Request::get("/v1/checkout/sessions");
    let answer = provider
        .send(&request, PATIENCE)
        .await
        .expect("the provider lists its sessions");
    assert_eq!(answer.status, 200, "listing sessions: {}", answer.body);
    let items = answer.body["items"].as_array().cloned().unwrap_or_default();
    items
        .iter()
        .map(|s| Session {
            id: s["id"].as_str().unwrap_or_default().to_owned(),
            reference: s["reference"].as_str().unwrap_or_default().to_owned(),
            status: s["status"].as_str().unwrap_or_default().to_owned(),
            captured: s["captured"] == true,
        })
        .collect()
}

/// What the money checks found: one list of problems per check, and counts for the
/// report.
#[derive(Debug, Default)]
pub struct Audit {
    /// (a) Every order with money captured is PAID, or CANCELLED/EXPIRED with every
    /// charge refunded and the refund shown on the order; every session is for a
    /// payment payment-service knows, of an order order-service knows.
    pub charged: Vec<String>,
    /// (b) No order charged twice: at most one captured session per order; and one
    /// checkout session per payment (the payment id is its idempotency key).
    pub twice: Vec<String>,
    /// (c) No refund without a charge: every refunded session was captured; every
    /// order showing a refund, and every REFUNDED payment, has a captured session.
    pub refund_without_charge: Vec<String>,
    /// (d) Every PAID order has exactly one captured, unrefunded session, shows its
    /// payment succeeded, and payment-service's payment of it is SUCCEEDED.
    pub paid: Vec<String>,
    /// Nothing left in between: no payment CREATING, PENDING or REFUNDING, no session
    /// open or processing (the end is reached only once these have moved on).
    pub unsettled: Vec<String>,
    /// Orders the problems name, with why (the first few, to trace).
    pub troubled: Vec<(Uuid, String)>,
    /// Orders with money captured.
    pub orders_charged: usize,
    /// Sessions refunded.
    pub sessions_refunded: usize,
    /// Orders showing a refund.
    pub orders_refunded: usize,
    /// PAID orders.
    pub orders_paid: usize,
    /// payment-service's payments by status.
    pub payments: BTreeMap<String, usize>,
    /// The provider's sessions by status.
    pub sessions: BTreeMap<String, usize>,
}

impl Audit {
    /// Every check holds.
    pub fn is_clean(&self) -> bool {
        self.problems() == 0
    }

    /// How many problems were found.
    pub fn problems(&self) -> usize {
        self.charged.len()
            + self.twice.len()
            + self.refund_without_charge.len()
            + self.paid.len()
            + self.unsettled.len()
    }

    fn flag(&mut self, order: Uuid, why: &str) {
        if self.troubled.len() < 3 && !self.troubled.iter().any(|(id, _)| *id == order) {
            self.troubled.push((order, why.to_owned()));
        }
    }
}

/// Sets the provider's `sessions` against payment-service's `payments` and
/// order-service's `orders`.
pub fn audit(orders: &[OrderMoney], payments: &[Payment], sessions: &[Session]) -> Audit {
    let mut audit = Audit::default();
    let payment_of: HashMap<String, &Payment> =
        payments.iter().map(|p| (p.id.to_string(), p)).collect();
    let mut per_payment: BTreeMap<&str, usize> = BTreeMap::new();
    let mut per_order: BTreeMap<Uuid, Vec<&Session>> = BTreeMap::new();
    for session in sessions {
        *audit.sessions.entry(session.status.clone()).or_default() += 1;
        *per_payment.entry(&session.reference).or_default() += 1;
        if session.status == "refunded" {
            audit.sessions_refunded += 1;
        }
        if session.status == "refunded" && !session.captured {
            audit.refund_without_charge.push(format!(
                "session {} (payment {}) is refunded, but never took money",
                session.id, session.reference
            ));
        }
        if matches!(session.status.as_str(), "open" | "processing") {
            audit.unsettled.push(format!(
                "session {} (payment {}) is still {}",
                session.id, session.reference, session.status
            ));
        }
        match payment_of.get(&session.reference) {
            Some(payment) => per_order.entry(payment.order_id).or_default().push(session),
            None => audit.charged.push(format!(
                "session {} ({}, captured: {}) is for payment {}, which payment-service \
                 does not have",
                session.id, session.status, session.captured, session.reference
            )),
        }
    }
    for (payment, count) in per_payment {
        if count > 1 {
            audit.twice.push(format!(
                "payment {payment} has {count} checkout sessions (its id is their idempotency key)"
            ));
        }
    }
    for payment in payments {
        *audit.payments.entry(payment.status.clone()).or_default() += 1;
        if matches!(
            payment.status.as_str(),
            "CREATING" | "PENDING" | "REFUNDING"
        ) {
            audit.unsettled.push(format!(
                "payment {} of order {} is still {}",
                payment.id, payment.order_id, payment.status
            ));
            audit.flag(
                payment.order_id,
                &format!("its payment is {}", payment.status),
            );
        }
    }
    let payment_by_order: HashMap<Uuid, &Payment> =
        payments.iter().map(|p| (p.order_id, p)).collect();
    let known: HashMap<Uuid, &OrderMoney> = orders.iter().map(|o| (o.id, o)).collect();
    for order_id in per_order.keys() {
        if !known.contains_key(order_id) {
            audit.charged.push(format!(
                "sessions for order {order_id}, which order-service does not have"
            ));
        }
    }
    for order in orders {
        let sessions = per_order
            .get(&order.id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        check_order(&mut audit, order, sessions, payment_by_order.get(&order.id));
    }
    audit
}

/// The checks of one order against its sessions and its payment.
fn check_order(
    audit: &mut Audit,
    order: &OrderMoney,
    sessions: &[&Session],
    payment: Option<&&Payment>,
) {
    let id = order.id;
    let captured: Vec<&Session> = sessions.iter().copied().filter(|s| s.captured).collect();
    let names = |list: &[&Session]| {
        list.iter()
            .map(|s| format!("{} {}", s.id, s.status))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !captured.is_empty() {
        audit.orders_charged += 1;
    }
    if captured.len() > 1 {
        audit.twice.push(format!(
            "order {id} ({}) was charged {} times: {}",
            order.status,
            captured.len(),
            names(&captured)
        ));
        audit.flag(id, "charged twice");
    }
    if order.refund_status.is_some() {
        audit.orders_refunded += 1;
        if captured.is_empty() {
            audit.refund_without_charge.push(format!(
                "order {id} ({}) shows refund {:?}, but none of its sessions took money",
                order.status, order.refund_status
            ));
            audit.flag(id, "a refund without a charge");
        }
    }
    if let Some(payment) = payment {
        if payment.status == "REFUNDED" && captured.is_empty() {
            audit.refund_without_charge.push(format!(
                "payment {} of order {id} is REFUNDED, but none of its sessions took money",
                payment.id
            ));
        }
    }
    match order.status.as_str() {
        "PAID" => {
            audit.orders_paid += 1;
            let kept: Vec<&Session> = captured
                .iter()
                .copied()
                .filter(|s| s.status != "refunded")
                .collect();
            let mut wrong = Vec::new();
            if kept.len() != 1 {
                wrong.push(format!(
                    "{} captured, unrefunded sessions ({})",
                    kept.len(),
                    names(sessions)
                ));
            }
            if order.payment_status.as_deref() != Some("succeeded") {
                wrong.push(format!("it shows payment {:?}", order.payment_status));
            }
            let status = payment.map(|p| p.status.as_str());
            if status != Some("SUCCEEDED") {
                wrong.push(format!("payment-service's payment is {status:?}"));
            }
            if !wrong.is_empty() {
                audit
                    .paid
                    .push(format!("order {id} is PAID, but {}", wrong.join("; ")));
                audit.flag(id, "PAID, but its money disagrees");
            }
        }
        _ if captured.is_empty() => {}
        "CANCELLED" | "EXPIRED" => {
            let unrefunded: Vec<&Session> = captured
                .iter()
                .copied()
                .filter(|s| s.status != "refunded")
                .collect();
            if !unrefunded.is_empty() {
                audit.charged.push(format!(
                    "order {id} is {}, but its charge is not refunded: {}",
                    order.status,
                    names(&unrefunded)
                ));
                audit.flag(id, "charged, not PAID, not refunded");
            } else if order.refund_status.as_deref() != Some("succeeded") {
                audit.charged.push(format!(
                    "order {id} ({}) was refunded at the provider, but shows refund {:?}",
                    order.status, order.refund_status
                ));
                audit.flag(id, "refunded, not shown");
            }
        }
        status => {
            audit.charged.push(format!(
                "order {id} is {status}, yet money was taken: {}",
                names(&captured)
            ));
            audit.flag(id, "charged while neither PAID nor ended");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(status: &str, payment: Option<&str>, refund: Option<&str>) -> OrderMoney {
        OrderMoney {
            id: Uuid::new_v4(),
            status: status.to_owned(),
            payment_status: payment.map(str::to_owned),
            refund_status: refund.map(str::to_owned),
        }
    }

    fn payment(order: &OrderMoney, status: &str) -> Payment {
        Payment {
            id: Uuid::new_v4(),
            order_id: order.id,
            status: status.to_owned(),
        }
    }

    fn session(payment: &Payment, status: &str, captured: bool) -> Session {
        Session {
            id: format!("cs_{}", Uuid::new_v4().simple()),
            reference: payment.id.to_string(),
            status: status.to_owned(),
            captured,
        }
    }

    #[test]
    fn paid_refunded_declined_and_expired_orders_pass_the_audit() {
        let paid = order("PAID", Some("succeeded"), None);
        let refunded = order("CANCELLED", Some("succeeded"), Some("succeeded"));
        let declined = order("CANCELLED", Some("failed"), None);
        let expired = order("EXPIRED", Some("pending"), None);
        let payments = [
            payment(&paid, "SUCCEEDED"),
            payment(&refunded, "REFUNDED"),
            payment(&declined, "FAILED"),
            payment(&expired, "VOIDED"),
        ];
        let sessions = [
            session(&payments[0], "paid", true),
            session(&payments[1], "refunded", true),
            session(&payments[2], "failed", false),
            session(&payments[3], "expired", false),
        ];
        let orders = [paid, refunded, declined, expired];
        let audit = audit(&orders, &payments, &sessions);
        assert!(audit.is_clean(), "{audit:?}");
        assert_eq!((audit.orders_charged, audit.orders_paid), (2, 1));
    }

    #[test]
    fn a_second_capture_an_unrefunded_charge_and_a_refund_without_charge_are_each_found() {
        let twice = order("PAID", Some("succeeded"), None);
        let kept = order("EXPIRED", Some("succeeded"), Some("pending"));
        let phantom = order("CANCELLED", Some("pending"), Some("succeeded"));
        let unpaid = order("PAID", Some("pending"), None);
        let payments = [
            payment(&twice, "SUCCEEDED"),
            payment(&kept, "REFUNDING"),
            payment(&phantom, "VOIDED"),
            payment(&unpaid, "PENDING"),
        ];
        let sessions = [
            session(&payments[0], "paid", true),
            session(&payments[0], "paid", true),
            session(&payments[1], "voided", true),
            session(&payments[2], "refunded", false),
            session(&payments[3], "open", false),
        ];
        let orders = [twice, kept, phantom, unpaid];
        let audit = audit(&orders, &payments, &sessions);
        assert_eq!(
            audit.twice.len(),
            2,
            "two sessions and two captures: {audit:?}"
        );
        assert_eq!(audit.charged.len(), 1, "{audit:?}");
        assert_eq!(audit.refund_without_charge.len(), 2, "{audit:?}");
        // The doubly charged order, and the PAID order with no charge.
        assert_eq!(audit.paid.len(), 2, "{audit:?}");
        assert_eq!(audit.unsettled.len(), 3, "{audit:?}");
    }
}
