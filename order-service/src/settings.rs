//! order-service settings: the kit's service settings plus `[auth]` (token
//! verification) and `[saga]` (how long an order waits for its stock reply).

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
}

impl Settings {
    /// `service` with the dev token key and the default saga settings (tests).
    pub fn with_dev_auth(service: ServiceSettings) -> Self {
        let secured = SecuredSettings::with_dev_auth(service);
        Self {
            service: secured.service,
            auth: secured.auth,
            saga: SagaSettings::default(),
        }
    }
}

/// Compiled-in defaults, enough for a local run.
pub const DEFAULTS: &str = include_str!("../config/default.toml");

/// Loads the defaults, then the `COMANDA_CONFIG` file, then `COMANDA__*` variables.
pub fn load() -> anyhow::Result<Settings> {
    // `[saga]` is read as a table of its own, like the kit reads `[auth]`.
    #[derive(Deserialize)]
    struct SagaSection {
        #[serde(default)]
        saga: SagaSettings,
    }
    let secured = SecuredSettings::load(DEFAULTS)?;
    Ok(Settings {
        service: secured.service,
        auth: secured.auth,
        saga: comanda_kit::settings::load::<SagaSection>(DEFAULTS)?.saga,
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
}
