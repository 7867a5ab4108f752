//! Start-up of product-service: the kit's service start-up with this crate's migrations and routes.

use comanda_kit::http::Server;

use crate::routes;
use crate::settings::Settings;

/// Migrates the database (outbox tables first), opens the pool and binds the server.
pub async fn build(settings: Settings) -> anyhow::Result<Server> {
    let migrations = vec![comanda_outbox::MIGRATIONS, crate::MIGRATIONS];
    comanda_kit::service::build(&settings, migrations, routes::configure).await
}
