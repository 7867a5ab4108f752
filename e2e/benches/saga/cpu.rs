//! CPU time from `/proc` (Linux): of each process of the stack, of the Postgres
//! backends serving its databases (and of the server's own processes), of the broker,
//! of this bench's clients and of the whole machine, so the report can say what one
//! order costs and where.

use std::fs;
use std::time::Instant;

/// Clock ticks per second of `/proc`'s counters (`USER_HZ`, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// What a sample covers: a name for the report and where its ticks come from.
#[derive(Clone)]
pub enum Watched {
    /// One process.
    Process { name: String, pid: u32 },
    /// The Postgres backends (and autovacuum workers) serving `databases`, except the
    /// bench's own connections (`exclude`): the server is shared with other work, whose
    /// backends must not count.
    Backends {
        name: String,
        databases: Vec<String>,
        exclude: Vec<u32>,
    },
    /// Postgres's own processes (WAL writer, checkpointer, background writer, ...):
    /// they work for every database on the server, ours among them.
    PostgresServer { name: String },
}

impl Watched {
    fn name(&self) -> &str {
        match self {
            Watched::Process { name, .. }
            | Watched::Backends { name, .. }
            | Watched::PostgresServer { name } => name,
        }
    }

    fn ticks(&self) -> u64 {
        match self {
            Watched::Process { pid, .. } => process_ticks(&pid.to_string()).unwrap_or(0),
            Watched::Backends {
                databases, exclude, ..
            } => postgres_ticks(|pid, words| {
                !exclude.contains(&pid) && words.iter().any(|w| databases.iter().any(|d| d == w))
            }),
            Watched::PostgresServer { .. } => postgres_ticks(|_, words| {
                let serves_a_client = words
                    .iter()
                    .any(|w| w.contains('(') || *w == "[local]" || *w == "autovacuum");
                !serves_a_client || words.contains(&"launcher")
            }),
        }
    }
}

/// Cumulative counters at one moment, in clock ticks.
pub struct Sample {
    at: Instant,
    machine_busy: u64,
    machine_total: u64,
    watched: Vec<(String, u64)>,
}

/// CPU used between two samples.
pub struct Used {
    /// Fraction of all CPUs' time that was busy.
    pub busy: f64,
    /// Seconds of CPU, the whole machine.
    pub machine_seconds: f64,
    /// Seconds of CPU of each watched entry, in the order watched.
    pub seconds: Vec<(String, f64)>,
    /// Seconds between the two samples.
    pub wall: f64,
}

impl Sample {
    /// The counters now; zero where `/proc` cannot be read.
    pub fn now(watched: &[Watched]) -> Self {
        let (machine_busy, machine_total) = machine_ticks().unwrap_or((0, 0));
        Self {
            at: Instant::now(),
            machine_busy,
            machine_total,
            watched: watched
                .iter()
                .map(|w| (w.name().to_owned(), w.ticks()))
                .collect(),
        }
    }

    /// What was used from `before` to `self`.
    pub fn since(&self, before: &Self) -> Used {
        let seconds = |ticks: u64| ticks as f64 / TICKS_PER_SECOND;
        let busy = self.machine_busy.saturating_sub(before.machine_busy);
        let total = self.machine_total.saturating_sub(before.machine_total);
        Used {
            wall: self.at.duration_since(before.at).as_secs_f64(),
            busy: busy as f64 / total.max(1) as f64,
            machine_seconds: seconds(busy),
            seconds: self
                .watched
                .iter()
                .zip(&before.watched)
                .map(|((name, after), (_, before))| {
                    (name.clone(), seconds(after.saturating_sub(*before)))
                })
                .collect(),
        }
    }
}

/// (busy, total) ticks of all CPUs: the first line of `/proc/stat`; idle and iowait
/// (the 4th and 5th columns) are not busy.
fn machine_ticks() -> Option<(u64, u64)> {
    let stat = fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let total: u64 = fields.iter().sum();
    let idle = fields.get(3)? + fields.get(4).unwrap_or(&0);
    Some((total - idle, total))
}

/// utime + stime of `/proc/<entry>/stat` (fields 14 and 15, counted after the
/// `(comm)` that may hold spaces).
fn process_ticks(entry: &str) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{entry}/stat")).ok()?;
    let after_name: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(after_name.get(11)?.parse::<u64>().ok()? + after_name.get(12)?.parse::<u64>().ok()?)
}

/// The ticks of every Postgres process (`comm` = `postgres`) whose pid and command
/// line's words (`postgres: 15/main: user database 127.0.0.1(port) state`) pass `pick`.
/// A process that exits between two samples takes its ticks with it; the backends here
/// are the services' pooled connections, which live as long as the stack.
fn postgres_ticks(pick: impl Fn(u32, &[&str]) -> bool) -> u64 {
    let Ok(entries) = fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim_end() == "postgres")
        })
        .filter(|pid| {
            let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            let words: Vec<&str> = cmdline.split_whitespace().collect();
            pick(*pid, &words)
        })
        .filter_map(|pid| process_ticks(&pid.to_string()))
        .sum()
}

/// The database name of a Postgres URL (`postgres://u@h:5432/name?x=y` → `name`).
pub fn database_name(url: &str) -> String {
    let path = url.rsplit('/').next().unwrap_or_default();
    path.split('?').next().unwrap_or_default().to_owned()
}
