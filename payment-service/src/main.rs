//! payment-service binary: settings, logs, then serve until SIGTERM or SIGINT.

use comanda_kit::{shutdown, telemetry};
use payment_service::{settings, startup::Application};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = settings::load()?;
    telemetry::init("payment-service", &settings.service.env)?;
    let app = Application::build(settings).await?;
    app.run_until_stopped(shutdown::signal()).await
}
