//! order-service settings: the kit's service settings plus `[auth]` (token
//! verification), `[saga]` (how long an order waits for its stock reply),
//! `[orders]` (how many open orders one customer may hold) and `[payment]` (how long a
//! CONFIRMED order waits for its payment, and in which currency it is charged).

use comanda_kit::auth::AuthSettings;
use comanda_kit::settings::{SecuredSettings, ServiceSettings};
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use comanda_outbox::deadline::SagaSettings;
use serde::Deserialize;

/// The settings of order-service.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `env`, `http`, `database`, `kafka`.
    pub service: ServiceSettings,
    /// How access tokens are verified.
    pub auth: AuthSettings,
    /// Stock-request timeout, attempts, and the deadline worker's poll interval.
    pub saga: SagaSettings,
    /// Limits on what one customer may hold.
    pub orders: OrderSettings,
    /// The payment step: its deadline and currency.
    pub payment: PaymentSettings,
}

/// Limits on the orders of one customer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OrderSettings {
    /// Open orders (see [`crate::domain::status::OrderStatus::is_open`]) one user may
    /// hold at once; one more is a 409 `too_many_open_orders`. Each open order holds
    /// stock, so without a cap one account could hold the whole catalogue.
    pub max_open_per_user: u32,
    /// Orders waiting for their stock decision (PENDING) beyond which a new order is
    /// refused 503 `saga_backlog_full` with `Retry-After` (0: no limit). See
    /// [`crate::routes::orders::backlog`].
    #[serde(default = "default_max_pending")]
    pub max_pending: u32,
}

/// 2,000: at the ~100 decisions per second a 2-core host makes (README, the e2e
/// bench) about 20 s of work, within the stock request's 30 s deadline.
fn default_max_pending() -> u32 {
    2000
}

impl Default for OrderSettings {
    fn default() -> Self {
        Self {
            max_open_per_user: 20,
            max_pending: default_max_pending(),
        }
    }
}

/// The payment step of an order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PaymentSettings {
    /// How long a CONFIRMED order's checkout stays payable (`pay_by` of
    /// `payment.requested`, default 900 s). Its durable deadline `order.payment` fires
    /// [`Self::settlement_grace_secs`] later: then it EXPIRES and its stock is given back.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// How long after the checkout closes (`pay_by`) the order still waits before it
    /// EXPIRES (default 120 s). The provider accepts a payment up to `pay_by`, and its
    /// report (a webhook, retried while payment-service restarts; the relay; the
    /// broker) takes time to arrive: a deadline at `pay_by` itself would expire, then
    /// refund, an order its customer paid in time. Within the grace nobody can pay any
    /// more, so waiting longer only holds the stock longer.
    #[serde(default = "default_settlement_grace_secs")]
    pub settlement_grace_secs: u64,
    /// The ISO 4217 currency orders are charged in (default `EUR`): three capital
    /// letters.
    #[serde(default = "default_currency")]
    pub currency: String,
}

impl Default for PaymentSettings {
    fn default() -> Self {
        Self {
            timeout_secs: default_timeout_secs(),
            settlement_grace_secs: default_settlement_grace_secs(),
            currency: default_currency(),
        }
    }
}

impl PaymentSettings {
    /// [`Self::timeout_secs`] as a duration.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }

    /// When an order CONFIRMED now must be paid by (microseconds, Postgres' precision).
    pub fn pay_by(&self) -> DateTime<Utc> {
        let timeout = chrono::Duration::seconds(self.timeout_secs.min(i64::MAX as u64) as i64);
        (Utc::now() + timeout).trunc_subsecs(6)
    }

    /// When an order whose checkout closes at `pay_by` EXPIRES if no payment outcome
    /// has arrived: [`Self::settlement_grace_secs`] later.
    pub fn expire_at(&self, pay_by: DateTime<Utc>) -> DateTime<Utc> {
        pay_by + chrono::Duration::seconds(self.settlement_grace_secs as i64)
    }

    /// Refuses a timeout of zero and a currency that is not three capital letters.
    fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.timeout_secs > 0,
            "payment.timeout_secs must be at least 1"
        );
        // Ten years: `pay_by` stays far inside chrono's range.
        anyhow::ensure!(
            self.timeout_secs <= 10 * 365 * 24 * 3600,
            "payment.timeout_secs must be at most ten years"
        );
        anyhow::ensure!(
            self.settlement_grace_secs <= 7 * 24 * 3600,
            "payment.settlement_grace_secs must be at most a week"
        );
        anyhow::ensure!(
            self.currency.len() == 3 && self.currency.bytes().all(|b| b.is_ascii_uppercase()),
            "payment.currency must be an ISO 4217 code (three capital letters), not {:?}",
            self.currency
        );
        Ok(())
    }
}

fn default_timeout_secs() -> u64 {
    900
}

fn default_settlement_grace_secs() -> u64 {
    120
}

fn default_currency() -> String {
    "EUR".to_owned()
}

impl Settings {
    /// `service` with the dev token key and the default saga settings (tests).
    pub fn with_dev_auth(service: ServiceSettings) -> Self {
        let secured = SecuredSettings::with_dev_auth(service);
        Self {
            service: secured.service,
            auth: secured.auth,
            saga: SagaSettings::default(),
            orders: OrderSettings::default(),
            payment: PaymentSettings::default(),
        }
    }
}

/// Compiled-in defaults, enough for a local run.
pub const DEFAULTS: &str = include_str!("../config/default.toml");

/// Loads the defaults, then the `COMANDA_CONFIG` file, then `COMANDA__*` variables.
pub fn load() -> anyhow::Result<Settings> {
    // `[saga]`, `[orders]` and `[payment]` are read as tables of their own, like the kit
    // reads `[auth]`.
    #[derive(Deserialize)]
    struct OwnSections {
        #[serde(default)]
        saga: SagaSettings,
        #[serde(default)]
        orders: OrderSettings,
        #[serde(default)]
        payment: PaymentSettings,
    }
    let secured = SecuredSettings::load(DEFAULTS)?;
    let own = comanda_kit::settings::load::<OwnSections>(DEFAULTS)?;
    own.payment.validate()?;
    Ok(Settings {
        service: secured.service,
        auth: secured.auth,
        saga: own.saga,
        orders: own.orders,
        payment: own.payment,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_wait_thirty_seconds_for_stock_and_ask_five_times() {
        let settings = load().expect("defaults load");
        assert_eq!(settings.saga.request_timeout_ms, 30_000);
        assert_eq!(settings.saga.max_attempts, 5);
        assert_eq!(settings.saga, SagaSettings::default());
    }

    #[test]
    fn the_defaults_let_a_customer_hold_twenty_open_orders() {
        let settings = load().expect("defaults load");
        assert_eq!(settings.orders.max_open_per_user, 20);
        assert_eq!(settings.orders, OrderSettings::default());
    }

    #[test]
    fn the_defaults_wait_fifteen_minutes_for_a_payment_in_euros() {
        let settings = load().expect("defaults load");
        assert_eq!(settings.payment.timeout_secs, 900);
        assert_eq!(settings.payment.currency, "EUR");
        assert_eq!(settings.payment.settlement_grace_secs, 120);
        assert_eq!(settings.payment, PaymentSettings::default());
    }

    #[test]
    fn a_zero_timeout_a_grace_over_a_week_or_a_currency_that_is_no_iso_code_is_refused() {
        let valid = PaymentSettings::default();
        assert!(valid.validate().is_ok());
        for currency in ["eur", "EURO", "E1R", ""] {
            let settings = PaymentSettings {
                currency: currency.to_owned(),
                ..valid.clone()
            };
            assert!(settings.validate().is_err(), "{currency:?}");
        }
        let never = PaymentSettings {
            timeout_secs: 0,
            ..valid.clone()
        };
        assert!(never.validate().is_err());
        let forever = PaymentSettings {
            settlement_grace_secs: 8 * 24 * 3600,
            ..valid
        };
        assert!(forever.validate().is_err());
    }
}
