//! `outbox-relay` binary: settings, telemetry, run until SIGTERM/SIGINT.

use outbox_relay::settings::Settings;
use outbox_relay::startup::Application;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::load()?;
    comanda_kit::telemetry::init("outbox-relay", &settings.env)?;
    let app = Application::build(settings).await?;
    app.run_until_stopped(comanda_kit::shutdown::signal()).await
}
