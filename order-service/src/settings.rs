//! order-service settings: the kit's service settings with this service's defaults.

/// The settings of order-service: `env`, `http`, `database`, `kafka`.
pub type Settings = comanda_kit::settings::ServiceSettings;

/// Compiled-in defaults, enough for a local run.
pub const DEFAULTS: &str = include_str!("../config/default.toml");

/// Loads the defaults, then the `COMANDA_CONFIG` file, then `COMANDA__*` variables.
pub fn load() -> anyhow::Result<Settings> {
    comanda_kit::settings::load(DEFAULTS)
}
