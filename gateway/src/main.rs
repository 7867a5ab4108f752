//! gateway binary: settings, logs, then serve until SIGTERM or SIGINT.

use comanda_kit::{shutdown, telemetry};
use gateway::{settings, startup};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = settings::load()?;
    telemetry::init("gateway", &settings.env)?;
    let app = startup::build(&settings)?;
    app.run_until_stopped(shutdown::signal()).await
}
