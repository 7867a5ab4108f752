//! The start-up every database-backed service shares.
//!
//! Migrate, open the pool, set up readiness, bind: in that order, so a service that
//! listens has its schema, and `/ready` reflects the dependencies it really uses.

use actix_web::web;
use diesel_migrations::EmbeddedMigrations;
use secrecy::ExposeSecret;

use crate::db;
use crate::health::Readiness;
use crate::http::Server;
use crate::settings::ServiceSettings;
use crate::stalls::Stalls;

/// Runs `migrations` (in order), builds the pool and binds the server.
///
/// Handlers get the pool as `web::Data<db::Pool>`; `routes` adds the service's own routes.
/// `/ready` checks the database, and Kafka when `settings.kafka.ready_check` is on.
pub async fn build<F>(
    settings: &ServiceSettings,
    migrations: Vec<EmbeddedMigrations>,
    routes: F,
) -> anyhow::Result<Server>
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    let pool = prepare(settings, migrations).await?;
    bind(settings, pool, Stalls::new(), routes)
}

/// Runs `migrations` (in order) and opens the pool: the first half of [`build`], for
/// services that also start consumers on the pool before binding.
pub async fn prepare(
    settings: &ServiceSettings,
    migrations: Vec<EmbeddedMigrations>,
) -> anyhow::Result<db::Pool> {
    db::run_migrations(settings.database.url.expose_secret(), migrations).await?;
    db::pool(&settings.database)
}

/// Binds the server over `pool`: the second half of [`build`]. `/ready` also reports
/// what the service's background workers post on `stalls`.
pub fn bind<F>(
    settings: &ServiceSettings,
    pool: db::Pool,
    stalls: Stalls,
    routes: F,
) -> anyhow::Result<Server>
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    let mut readiness = Readiness::new()
        .with_database(pool.clone())
        .with_stalls(stalls);
    if settings.kafka.ready_check {
        readiness =
            readiness.with_secured_kafka(&settings.kafka.brokers, settings.kafka.security());
    }
    let pool = web::Data::new(pool);
    let server = Server::bind(&settings.http, readiness, move |cfg| {
        cfg.app_data(pool.clone());
        routes(cfg);
    })?;
    tracing::info!(port = server.port(), env = %settings.env, "listening");
    Ok(server)
}
