//! product-service binary: settings, logs, then serve until SIGTERM or SIGINT.

use comanda_kit::{shutdown, telemetry};
use product_service::{settings, startup};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = settings::load()?;
    telemetry::init("product-service", &settings.env)?;
    let server = startup::build(settings).await?;
    server.run_until_stopped(shutdown::signal()).await
}
