//! The command line: `cargo xtask <command>`.

use clap::{Parser, Subcommand};

/// Developer commands for the Comanda workspace.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// One developer command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start Postgres and the broker, create topics, then run fmt, clippy and all tests.
    ///
    /// Arguments after `--` go to `cargo nextest run` (e.g. a test filter).
    Test {
        /// Extra arguments for the test runner.
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Only `test`'s schemathesis step: the whole API through the gateway, as a user and
    /// as an admin, on a stack of its own (Postgres and the broker are made sure of first).
    Schemathesis,
    /// Start the whole stack locally (no Docker) and wait until every process is ready.
    Up {
        /// Run release builds (for putting load on it; the default debug builds are for
        /// development).
        #[arg(long)]
        release: bool,
    },
    /// Stop everything `up` (or `test`) started.
    Down,
    /// Against a running stack: register, log in, order (once served, once refused
    /// for stock), cancel, and print each order's timeline.
    Demo {
        /// The gateway's base URL.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        gateway: String,
    },
    /// Read the dead-letter topic and replay its entries to their source topics.
    Dlq(crate::dlq::Dlq),
    /// The chaos suite: customers order through the gateway while processes are killed
    /// and the broker paused; then every invariant is checked and printed.
    ///
    /// `cargo xtask test` runs its short form (300 orders over 60 s).
    Chaos {
        /// Orders to place, paced evenly over the load.
        #[arg(long, default_value_t = 300)]
        orders: u64,
        /// Length of the load in seconds.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Seconds between faults (at least 8 faults in all).
        #[arg(long, default_value_t = 7)]
        fault_every: u64,
        /// Seed of the fault schedule and the orders (default: the clock; printed).
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Run a benchmark against local Postgres and the broker.
    Bench {
        /// Which benchmark.
        #[command(subcommand)]
        which: Bench,
    },
}

/// The benchmarks `cargo xtask bench` knows.
#[derive(Debug, Subcommand)]
pub enum Bench {
    /// Outbox relay throughput: `cargo bench -p outbox-relay --bench relay`.
    Relay {
        /// Extra arguments for the bench binary.
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Gateway overhead: direct vs through the gateway, in one run.
    Gateway,
    /// What the consumers' fetch wait (`kafka.fetch_wait_max_ms`) costs and buys on the
    /// local broker: produce → consume latency and idle CPU per wait.
    Fetch,
    /// Whether the broker's cost of handing a consumer a new record grows with the
    /// batches its partition already holds (it does on tansu's memory storage).
    FetchHistory,
    /// The whole saga (release binaries): orders/s from POST to the stock decision,
    /// latencies and CPU per order by process, against the same SQL transactions run
    /// straight on Postgres: `cargo bench -p e2e --bench saga`.
    ///
    /// Arguments after `--` go to the bench, e.g. `-- --clients 8,32 --seconds 30 --rate 100`
    /// (`-- --help` lists them).
    E2e {
        /// Extra arguments for the bench binary.
        #[arg(last = true)]
        args: Vec<String>,
    },
}

impl Command {
    /// Runs the command.
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            Command::Test { args } => crate::test::run(&args),
            Command::Schemathesis => crate::test::schemathesis_only(),
            Command::Up { release } => crate::up::run(release),
            Command::Down => crate::down::run(),
            Command::Demo { gateway } => crate::demo::run(&gateway),
            Command::Dlq(dlq) => crate::dlq::run(dlq),
            Command::Chaos {
                orders,
                seconds,
                fault_every,
                seed,
            } => crate::chaos::run(orders, seconds, fault_every, seed),
            Command::Bench { which } => match which {
                Bench::Relay { args } => crate::bench::relay(&args),
                Bench::Gateway => crate::bench::gateway(),
                Bench::Fetch => crate::bench::fetch("fetch_wait"),
                Bench::FetchHistory => crate::bench::fetch("fetch_history"),
                Bench::E2e { args } => crate::bench::e2e(&args),
            },
        }
    }
}
