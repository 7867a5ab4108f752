//! Postgres: the connection pool, embedded migrations, and database creation.
//!
//! Everything goes through diesel-async over tokio-postgres (no libpq), migrations
//! included: they run through `AsyncConnectionWrapper`, a blocking facade, on a blocking
//! thread.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context as _;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::PoolError;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::AsyncPgConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};
use secrecy::ExposeSecret;

use crate::problem::Problem;
use crate::settings::DatabaseSettings;

/// The pool every service uses.
pub type Pool = diesel_async::pooled_connection::deadpool::Pool<AsyncPgConnection>;
/// A connection checked out of [`Pool`].
pub type PooledConnection = diesel_async::pooled_connection::deadpool::Object<AsyncPgConnection>;

/// How long a request waits for a free or new connection before it gets a 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Builds a lazily connecting pool; connections are opened on first use.
pub fn pool(settings: &DatabaseSettings) -> anyhow::Result<Pool> {
    // No test query on every checkout (diesel-async's default, `SELECT 1`): it was a
    // round trip more per transaction, 7,554 of them for 3,500 orders in the e2e bench
    // (issue #15). A connection whose socket the server closed (a restart, a
    // terminated backend) is still dropped on checkout: its client has seen the close.
    // A connection that breaks between checkout and use fails that use, which every
    // caller already treats as transient (the inbox retries, a request gets a 503).
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
        settings.url.expose_secret(),
        config,
    );
    // Without timeouts an exhausted pool or a silent server would hang requests forever;
    // with them, the caller gets `PoolError::Timeout`, which maps to a 503.
    Pool::builder(manager)
        .max_size(settings.pool_size)
        .runtime(deadpool::Runtime::Tokio1)
        .wait_timeout(Some(ACQUIRE_TIMEOUT))
        .create_timeout(Some(ACQUIRE_TIMEOUT))
        .recycle_timeout(Some(ACQUIRE_TIMEOUT))
        .build()
        .context("building the database pool")
}

/// Runs the pending migrations of each source, in the order given, on the database at `url`.
///
/// Services pass the outbox's migrations first, then their own; diesel records every
/// applied version in one `__diesel_schema_migrations` table, so the sources' versions
/// must not collide.
pub async fn run_migrations(url: &str, sources: Vec<EmbeddedMigrations>) -> anyhow::Result<()> {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        use diesel::Connection as _;
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url)
            .context("connecting to run migrations")?;
        for source in sources {
            let applied = conn
                .run_pending_migrations(source)
                .map_err(|e| anyhow::anyhow!("running migrations: {e}"))?;
            for version in applied {
                tracing::info!(%version, "applied migration");
            }
        }
        Ok(())
    })
    .await
    .context("migration task panicked")?
}

/// Creates the database named in `url` unless it exists (the server's `postgres` database
/// is used to issue the `CREATE DATABASE`).
pub async fn create_database_if_missing(url: &str) -> anyhow::Result<()> {
    let mut config = tokio_postgres::Config::from_str(url).context("parsing the database URL")?;
    let name = config
        .get_dbname()
        .context("the database URL names no database")?
        .to_owned();
    config.dbname("postgres");
    let (client, connection) = config
        .connect(tokio_postgres::NoTls)
        .await
        .context("connecting to the `postgres` database")?;
    let connection = tokio::spawn(connection);
    let exists = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await?
        .is_some();
    if !exists {
        let create = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
        if let Err(e) = client.batch_execute(&create).await {
            // Another process may have created it between the check and here.
            let raced = e.code() == Some(&tokio_postgres::error::SqlState::DUPLICATE_DATABASE)
                || e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION);
            if !raced {
                return Err(e).with_context(|| format!("creating database {name}"));
            }
        }
    }
    drop(client);
    let _ = connection.await;
    Ok(())
}

/// Returns `url` with its database name replaced by `name` (keeps host, user, options).
pub fn with_database_name(url: &str, name: &str) -> anyhow::Result<String> {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").context("not a postgres:// URL")? + 3;
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{}", &base[..path_start], name);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    Ok(out)
}

impl From<PoolError> for Problem {
    fn from(error: PoolError) -> Self {
        // Timeouts (exhausted pool, silent server) and failed connects are transient.
        tracing::warn!(error = %error, "database pool unavailable");
        Problem::unavailable("the database is unavailable, retry later")
    }
}

impl From<DieselError> for Problem {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::NotFound => Problem::not_found("the resource does not exist"),
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => {
                tracing::warn!(error = %error, "database connection lost");
                Problem::unavailable("the database is unavailable, retry later")
            }
            other => Problem::internal(other),
        }
    }
}
