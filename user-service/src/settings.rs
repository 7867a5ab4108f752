//! user-service settings: the kit's service settings plus `[auth]` (token verification).

use comanda_kit::auth::AuthSettings;
use comanda_kit::settings::ServiceSettings;
use serde::Deserialize;

/// The settings of user-service.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `env`, `http`, `database`, `kafka`.
    pub service: ServiceSettings,
    /// How access tokens are verified (empty key = the dev key, refused in prod).
    pub auth: AuthSettings,
}

impl Settings {
    /// Settings of a service under test: `service` with the dev token key.
    pub fn with_dev_auth(service: ServiceSettings) -> Self {
        Self {
            service,
            auth: AuthSettings::default(),
        }
    }
}

/// The `[auth]` table, read on its own so the kit's `ServiceSettings` stays as is.
#[derive(Deserialize)]
struct AuthSection {
    #[serde(default)]
    auth: AuthSettings,
}

/// Compiled-in defaults, enough for a local run.
pub const DEFAULTS: &str = include_str!("../config/default.toml");

/// Loads the defaults, then the `COMANDA_CONFIG` file, then `COMANDA__*` variables.
pub fn load() -> anyhow::Result<Settings> {
    Ok(Settings {
        service: comanda_kit::settings::load(DEFAULTS)?,
        auth: comanda_kit::settings::load::<AuthSection>(DEFAULTS)?.auth,
    })
}
