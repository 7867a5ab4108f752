//! Start-up of the gateway: the kit's HTTP server with the gateway's routes.

use comanda_kit::health::Readiness;
use comanda_kit::http::Server;

use crate::routes;
use crate::settings::Settings;

/// Binds the gateway's server; `/ready` has no dependency to check yet.
///
/// Must be called inside a tokio runtime.
pub fn build(settings: &Settings) -> anyhow::Result<Server> {
    let server = Server::bind(&settings.http, Readiness::new(), routes::configure)?;
    tracing::info!(port = server.port(), env = %settings.env, "listening");
    Ok(server)
}
