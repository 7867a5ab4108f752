//! A local Postgres on 127.0.0.1:5432 where the `postgres` user logs in without a password.

use std::{
    fs,
    net::SocketAddr,
    process::{Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};

use crate::{exec, http};

/// Host Postgres listens on.
pub const HOST: &str = "127.0.0.1";
/// Port Postgres listens on.
pub const PORT: u16 = 5432;
/// The admin connection tests use to create a fresh database per test.
pub const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

const HOW_TO_INSTALL: &str = "Postgres is not running on 127.0.0.1:5432 and no local cluster \
was found to start. Install it (Debian/Ubuntu: `sudo apt-get install postgresql`) and let the \
`postgres` user connect from 127.0.0.1 without a password (pg_hba.conf: \
`host all postgres 127.0.0.1/32 trust`), or run it in Docker: \
`docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16`";

/// The connection URL of database `name` on the local server.
pub fn database_url(name: &str) -> String {
    format!("postgres://postgres@{HOST}:{PORT}/{name}")
}

/// Makes sure Postgres accepts connections, starting the installed cluster if needed.
pub fn ensure_running() -> Result<()> {
    if is_ready() {
        say!("postgres: ready on {HOST}:{PORT}");
        return Ok(());
    }
    let Some(pg_ctlcluster) = exec::which("pg_ctlcluster") else {
        bail!(HOW_TO_INSTALL);
    };
    let version = installed_version().context(HOW_TO_INSTALL)?;
    say!("postgres: not running; starting the installed cluster {version}/main");
    exec::step(
        "postgres",
        Command::new(pg_ctlcluster).args(["--skip-systemctl-redirect", &version, "main", "start"]),
    )?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !is_ready() {
        if Instant::now() >= deadline {
            bail!(
                "postgres: cluster {version}/main started but {HOST}:{PORT} is not ready after \
                 30s; see /var/log/postgresql/postgresql-{version}-main.log"
            );
        }
        thread::sleep(Duration::from_millis(250));
    }
    say!("postgres: ready on {HOST}:{PORT}");
    Ok(())
}

/// Creates database `name` unless it exists.
pub fn ensure_database(name: &str) -> Result<()> {
    let exists = psql(&format!(
        "SELECT 1 FROM pg_database WHERE datname = '{name}'"
    ))
    .with_context(|| format!("postgres: could not check whether database {name} exists"))?;
    if exists.trim() == "1" {
        say!("postgres: database {name} exists");
        return Ok(());
    }
    let port = PORT.to_string();
    exec::step(
        "createdb",
        Command::new("createdb").args(["-h", HOST, "-p", &port, "-U", "postgres", name]),
    )
}

/// Drops database `name` (closing its connections) if it exists.
pub fn drop_database(name: &str) -> Result<()> {
    psql(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .map(drop)
        .with_context(|| format!("postgres: could not drop {name}"))
}

/// Drops the databases earlier test runs left (`test_*`, see `comanda_kit::testing`):
/// every test creates its own, and nothing else would ever remove them.
pub fn drop_test_databases() -> Result<()> {
    let names = psql(r"SELECT datname FROM pg_database WHERE datname LIKE 'test\_%'")
        .context("postgres: could not list test databases")?;
    let names: Vec<&str> = names
        .lines()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    // Each DROP DATABASE waits for a checkpoint (about a second here); drops running at
    // the same time share one, so a thousand databases take tens of seconds, not twenty
    // minutes.
    for batch in names.chunks(DROP_IN_PARALLEL) {
        std::thread::scope(|scope| {
            let drops: Vec<_> = batch
                .iter()
                .map(|name| scope.spawn(move || drop_database(name)))
                .collect();
            drops
                .into_iter()
                .map(|drop| drop.join().expect("a drop thread panicked"))
                .collect::<Result<Vec<_>>>()
        })?;
    }
    if !names.is_empty() {
        say!(
            "postgres: dropped {} databases of earlier test runs",
            names.len()
        );
    }
    Ok(())
}

/// Test databases dropped at once by [`drop_test_databases`].
const DROP_IN_PARALLEL: usize = 32;

/// Runs one SQL statement as `postgres` and returns its unaligned, tuples-only output.
fn psql(sql: &str) -> Result<String> {
    let port = PORT.to_string();
    exec::output(
        Command::new("psql").args(["-h", HOST, "-p", &port, "-U", "postgres", "-qtAc", sql]),
    )
}

/// `pg_isready` when installed, else a plain TCP connect.
fn is_ready() -> bool {
    match exec::which("pg_isready") {
        Some(pg_isready) => Command::new(pg_isready)
            .args(["-q", "-h", HOST, "-p", &PORT.to_string()])
            .stdin(Stdio::null())
            .status()
            .is_ok_and(|status| status.success()),
        None => http::is_listening(SocketAddr::from(([127, 0, 0, 1], PORT))),
    }
}

/// The newest major version under /etc/postgresql (Debian's layout), e.g. "15".
fn installed_version() -> Result<String> {
    let entries = fs::read_dir("/etc/postgresql").context("no /etc/postgresql")?;
    entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter_map(|name| Some((name.parse::<f64>().ok()?, name)))
        .max_by(|(a, _), (b, _)| a.total_cmp(b))
        .map(|(_, name)| name)
        .context("no cluster under /etc/postgresql")
}
