//! auth-service binary: settings, logs, then serve until SIGTERM or SIGINT.

use auth_service::{settings, startup};
use comanda_kit::{shutdown, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = settings::load()?;
    telemetry::init("auth-service", &settings.env)?;
    let server = startup::build(settings).await?;
    server.run_until_stopped(shutdown::signal()).await
}
