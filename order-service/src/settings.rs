//! order-service settings: the kit's service settings plus `[auth]` (token verification).

pub use comanda_kit::settings::SecuredSettings as Settings;

/// Compiled-in defaults, enough for a local run.
pub const DEFAULTS: &str = include_str!("../config/default.toml");

/// Loads the defaults, then the `COMANDA_CONFIG` file, then `COMANDA__*` variables.
pub fn load() -> anyhow::Result<Settings> {
    Settings::load(DEFAULTS)
}
