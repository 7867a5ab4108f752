//! The Comanda processes `cargo xtask up` runs: one table, read by `up` and `down`.

use crate::{broker, postgres};

/// One Comanda binary and how to run it locally.
#[derive(Clone, Copy, Debug)]
pub struct Process {
    /// Binary name in `target/debug/`, also the name of its log and pid files.
    pub name: &'static str,
    /// HTTP port (`/health`, `/ready`, `/metrics` and its API).
    pub port: u16,
    /// Its own database, if it has one.
    pub database: Option<&'static str>,
}

/// In start order: the sandbox payment provider first (it needs nothing); the services,
/// since each migrates its own database (creating its outbox table) on start; then the
/// relay, which reads those outboxes; the gateway last, so it only fronts processes that
/// exist. `down` stops them in reverse.
pub const PROCESSES: &[Process] = &[
    Process::new("sandbox-provider", SANDBOX_PORT, None),
    Process::new("auth-service", 5010, Some("comanda_auth")),
    Process::new("user-service", 5011, Some("comanda_user")),
    Process::new("order-service", 5012, Some("comanda_order")),
    Process::new("product-service", 5013, Some("comanda_product")),
    Process::new("payment-service", 5014, Some("comanda_payment")),
    Process::new("outbox-relay", 5020, None),
    Process::new("gateway", GATEWAY_PORT, None),
];

/// The sandbox payment provider's port: its API for payment-service, and the checkout
/// pages a customer opens.
pub const SANDBOX_PORT: u16 = 5030;

/// The gateway's port, the system's one entry.
pub const GATEWAY_PORT: u16 = 8080;

/// Every service database.
pub fn databases() -> impl Iterator<Item = &'static str> {
    PROCESSES.iter().filter_map(|process| process.database)
}

impl Process {
    const fn new(name: &'static str, port: u16, database: Option<&'static str>) -> Self {
        Self {
            name,
            port,
            database,
        }
    }

    /// Settings as `COMANDA__*` environment variables (the config crate's `__` separator).
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            ("COMANDA__ENV".into(), "dev".into()),
            ("COMANDA__KAFKA__BROKERS".into(), broker::ADDRESS.into()),
            // One instance per service on tansu: no group protocol (README, "The broker").
            ("COMANDA__KAFKA__ASSIGNMENT".into(), "all".into()),
            // tansu holds every fetch for the whole wait (README, "The broker").
            (
                "COMANDA__KAFKA__FETCH_WAIT_MAX_MS".into(),
                comanda_kit::settings::TANSU_FETCH_WAIT_MS.to_string(),
            ),
            ("COMANDA__HTTP__PORT".into(), self.port.to_string()),
        ];
        if let Some(database) = self.database {
            env.push((
                "COMANDA__DATABASE__URL".into(),
                postgres::database_url(database),
            ));
        }
        if self.name == "sandbox-provider" {
            // The provider reaches payment-service the way a real one would: through
            // the system's one public entry.
            env.push((
                "COMANDA__WEBHOOK__URL".into(),
                format!("http://127.0.0.1:{GATEWAY_PORT}/api/v1/payments/webhooks/sandbox"),
            ));
        }
        if self.name == "outbox-relay" {
            // The relay reads the outbox of every service database:
            // COMANDA__SOURCES__AUTH__URL, COMANDA__SOURCES__USER__URL, ...
            for database in databases() {
                let source = database.trim_start_matches("comanda_").to_uppercase();
                env.push((
                    format!("COMANDA__SOURCES__{source}__URL"),
                    postgres::database_url(database),
                ));
            }
        }
        env
    }
}
