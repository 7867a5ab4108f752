//! order-service settings: the kit's service settings plus `[auth]` (token
//! verification), `[saga]` (how long an order waits for its stock reply) and
//! `[orders]` (how many open orders one customer may hold).

use comanda_kit::auth::AuthSettings;
use comanda_kit::settings::{SecuredSettings, ServiceSettings};
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
}

/// Limits on the orders of one customer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OrderSettings {
    /// Open orders (see [`crate::domain::status::OrderStatus::is_open`]) one user may
    /// hold at once; one more is a 409 `too_many_open_orders`. Each open order holds
    /// stock, so without a cap one account could hold the whole catalogue.
    pub max_open_per_user: u32,
}

impl Default for OrderSettings {
    fn default() -> Self {
        Self {
            max_open_per_user: 20,
        }
    }
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
        }
    }
}

/// Compiled-in defaults, enough for a local run.
pub const DEFAULTS: &str = include_str!("../config/default.toml");

/// Loads the defaults, then the `COMANDA_CONFIG` file, then `COMANDA__*` variables.
pub fn load() -> anyhow::Result<Settings> {
    // `[saga]` and `[orders]` are read as tables of their own, like the kit reads `[auth]`.
    #[derive(Deserialize)]
    struct OwnSections {
        #[serde(default)]
        saga: SagaSettings,
        #[serde(default)]
        orders: OrderSettings,
    }
    let secured = SecuredSettings::load(DEFAULTS)?;
    let own = comanda_kit::settings::load::<OwnSections>(DEFAULTS)?;
    Ok(Settings {
        service: secured.service,
        auth: secured.auth,
        saga: own.saga,
        orders: own.orders,
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
}
