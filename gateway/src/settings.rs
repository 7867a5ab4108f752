//! gateway settings: `env` and `http`; the gateway owns no database.

use comanda_kit::settings::HttpSettings;
use serde::Deserialize;

/// Compiled-in defaults, enough for a local run.
pub const DEFAULTS: &str = include_str!("../config/default.toml");

/// The settings of the gateway.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// Deployment environment name, a log label.
    #[serde(default = "comanda_kit::settings::default_env")]
    pub env: String,
    /// HTTP listener.
    pub http: HttpSettings,
}

/// Loads the defaults, then the `COMANDA_CONFIG` file, then `COMANDA__*` variables.
pub fn load() -> anyhow::Result<Settings> {
    comanda_kit::settings::load(DEFAULTS)
}
