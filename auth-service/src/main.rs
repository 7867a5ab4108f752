//! auth-service binary: settings, logs, then serve until SIGTERM or SIGINT.

use auth_service::{settings, startup::Application};
use comanda_kit::{shutdown, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = settings::load()?;
    telemetry::init("auth-service", &settings.service.env)?;
    let app = Application::build(settings).await?;
    app.run_until_stopped(shutdown::signal()).await
}
