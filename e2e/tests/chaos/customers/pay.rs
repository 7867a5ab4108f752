//! Paying: a customer looks at each order it means to pay (through the gateway, on each
//! turn of its loop once the order is a second old) until the checkout appears, then
//! enters a card at the provider's checkout, directly, as a browser would. Mostly the
//! good card; about 1 in 8 the declined one; 1 in 16 the slow one, captured a few
//! seconds later (a cancel in between voids a session whose charge still lands, which
//! payment-service must refund); 1 in 20 orders is left unpaid on purpose, to expire.
//! About 1 in 5 paid orders is cancelled 0.2–3 s later, so PAID orders are cancelled
//! and refunded.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{Load, PATIENCE};
use crate::client::Request;
use crate::rng::Rng;

/// The sandbox's test cards.
const GOOD_CARD: &str = "4242 4242 4242 4242";
const DECLINED_CARD: &str = "4000 0000 0000 0002";
const SLOW_CARD: &str = "4000 0000 0000 3220";

/// How old an order is before its customer first looks for its checkout: about what
/// the saga takes to get there (stock reserved, payment-service's session, back).
const FIRST_LOOK: Duration = Duration::from_secs(1);

/// The longest a customer waits between two looks at an order whose checkout has not
/// appeared. Looks back off (1 s, 2 s, 4 s, then this), as a person reloading a page
/// would: a customer with many orders waiting must not read every one of them on
/// every turn, or a slow saga is buried under its own customers' polling.
const MAX_LOOK_INTERVAL: Duration = Duration::from_secs(5);

/// What a customer still has to do.
#[derive(Default)]
pub struct Due {
    /// Cancels, each at its time.
    pub cancels: Vec<(Instant, String)>,
    /// Orders to pay once their checkout appears.
    pub payments: Vec<ToPay>,
}

impl Due {
    /// Nothing left to do.
    pub fn is_empty(&self) -> bool {
        self.cancels.is_empty() && self.payments.is_empty()
    }
}

/// An order its customer means to pay, and the card it will enter.
pub struct ToPay {
    order: String,
    /// When to look at the order next.
    next_look: Instant,
    /// How long after that look the one after it comes, if the checkout is not there.
    interval: Duration,
    card: &'static str,
}

/// Where an order's checkout stands, as the customer sees the order.
enum Checkout {
    /// CONFIRMED with a checkout to pay at: its URL.
    Open(String),
    /// Not yet: PENDING, or CONFIRMED without its checkout so far.
    NotYet,
    /// The order ended first (REJECTED, CANCELLED, EXPIRED).
    Ended,
    /// No usable answer (recorded in the ledger).
    Lost,
}

/// What the provider did with the card.
enum Outcome {
    Paid,
    Processing,
    Declined,
    /// The checkout was no longer open (voided or expired).
    Closed,
}

impl Load {
    /// Decides how `order` will be paid (or not) and queues it.
    pub(super) fn plan_payment(&self, order: String, due: &mut Due, rng: &mut Rng) {
        let card = match rng.between(1, 80) {
            1..=4 => None,
            5..=14 => Some(DECLINED_CARD),
            15..=19 => Some(SLOW_CARD),
            _ => Some(GOOD_CARD),
        };
        match card {
            Some(card) => due.payments.push(ToPay {
                order,
                next_look: Instant::now() + FIRST_LOOK,
                interval: FIRST_LOOK,
                card,
            }),
            None => self.record(|l| {
                l.payments.left_unpaid.insert(order);
            }),
        }
    }

    /// Looks at each order to pay that is old enough; pays those whose checkout is open
    /// and drops those that ended; the rest wait for the next turn.
    pub(super) async fn pay_due(&self, token: &str, due: &mut Due, rng: &mut Rng) {
        let now = Instant::now();
        for mut to_pay in std::mem::take(&mut due.payments) {
            if now < to_pay.next_look {
                due.payments.push(to_pay);
                continue;
            }
            let url = match self.checkout(token, &to_pay.order).await {
                Checkout::Open(url) => url,
                Checkout::NotYet => {
                    to_pay.interval = (to_pay.interval * 2).min(MAX_LOOK_INTERVAL);
                    to_pay.next_look = Instant::now() + to_pay.interval;
                    due.payments.push(to_pay);
                    continue;
                }
                Checkout::Ended => {
                    self.record(|l| l.payments.never_payable += 1);
                    continue;
                }
                Checkout::Lost => continue,
            };
            let Some(outcome) = self.enter_card(&url, to_pay.card).await else {
                continue;
            };
            self.record(|l| match outcome {
                Outcome::Paid => l.payments.paid += 1,
                Outcome::Processing => l.payments.paid_slowly += 1,
                Outcome::Declined => l.payments.declined += 1,
                Outcome::Closed => l.payments.closed += 1,
            });
            if matches!(outcome, Outcome::Paid | Outcome::Processing) && rng.chance(20) {
                let after = Duration::from_millis(rng.between(200, 3000));
                due.cancels.push((Instant::now() + after, to_pay.order));
                self.record(|l| l.payments.cancels_after_paying += 1);
            }
        }
    }

    /// Reads `order` through the gateway: is its checkout open?
    async fn checkout(&self, token: &str, order: &str) -> Checkout {
        let path = format!("/api/v1/orders/{order}");
        let request = Request::get(&path).bearer(token);
        let answer = match self.gateway.send(&request, PATIENCE).await {
            Ok(answer) if answer.status == 200 => answer,
            Ok(answer) => {
                let what = format!("order {order}: {} {}", answer.status, answer.body);
                self.record(|l| l.unexpected.push(what));
                return Checkout::Lost;
            }
            Err(error) => {
                self.record(|l| l.unanswered.push(error));
                return Checkout::Lost;
            }
        };
        let payment = &answer.body["payment"];
        match answer.body["status"].as_str() {
            Some("PENDING") => Checkout::NotYet,
            Some("CONFIRMED") => {
                match (payment["status"].as_str(), payment["checkout_url"].as_str()) {
                    (Some("pending"), Some(url)) => Checkout::Open(url.to_owned()),
                    _ => Checkout::NotYet,
                }
            }
            Some(_) => Checkout::Ended,
            None => {
                let what = format!("order {order} without a status: {}", answer.body);
                self.record(|l| l.unexpected.push(what));
                Checkout::Lost
            }
        }
    }

    /// Enters `card` on the checkout at `url`. A checkout that is not open any more
    /// (409, 410) was voided or expired — or paid by an earlier attempt of this very
    /// request whose answer was lost: the session says which.
    async fn enter_card(&self, url: &str, card: &'static str) -> Option<Outcome> {
        let Some(page) = url.strip_prefix(self.provider.base()) else {
            let what = format!("a checkout not at the provider: {url}");
            self.record(|l| l.unexpected.push(what));
            return None;
        };
        let path = format!("{page}/pay");
        let body = json!({ "card_number": card });
        let answer = match self
            .provider
            .send(&Request::post(&path, &body), PATIENCE)
            .await
        {
            Ok(answer) => answer,
            Err(error) => {
                self.record(|l| l.unanswered.push(error));
                return None;
            }
        };
        let session = match answer.status {
            200 => answer.body,
            409 | 410 => {
                let id = page.rsplit('/').next().unwrap_or_default();
                let path = format!("/v1/checkout/sessions/{id}");
                match self.provider.send(&Request::get(&path), PATIENCE).await {
                    Ok(session) if session.status == 200 => session.body,
                    Ok(session) => {
                        let what = format!("session {id}: {} {}", session.status, session.body);
                        self.record(|l| l.unexpected.push(what));
                        return None;
                    }
                    Err(error) => {
                        self.record(|l| l.unanswered.push(error));
                        return None;
                    }
                }
            }
            status => {
                let what = format!("paying at {url}: {status} {}", answer.body);
                self.record(|l| l.unexpected.push(what));
                return None;
            }
        };
        let outcome = outcome(&session["status"]);
        if outcome.is_none() {
            let what = format!("paying at {url}: the session is {session}");
            self.record(|l| l.unexpected.push(what));
        }
        outcome
    }
}

/// What a session's status says happened to the card entered on it.
fn outcome(status: &Value) -> Option<Outcome> {
    match status.as_str()? {
        // Refunded: paid first, by this customer, and cancelled since.
        "paid" | "refunded" => Some(Outcome::Paid),
        "processing" => Some(Outcome::Processing),
        "failed" => Some(Outcome::Declined),
        "voided" | "expired" => Some(Outcome::Closed),
        _ => None,
    }
}
