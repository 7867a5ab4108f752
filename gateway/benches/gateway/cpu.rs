//! CPU time during a pass, read from `/proc` (Linux): how busy the machine was, and the
//! CPU time per request of the whole machine and of chosen processes.
//!
//! On a machine where client, gateway, service and Postgres share the cores, the
//! gateway's CPU is taken from the service's; the CPU per request is the hop's real cost.

/// A process whose CPU a pass reports: a name for the report and its `/proc` entry
/// (`"self"` or a pid).
#[derive(Clone)]
pub struct Watched {
    pub name: &'static str,
    pub proc_entry: String,
}

impl Watched {
    /// This process.
    pub fn this_process() -> Self {
        Self {
            name: "this process",
            proc_entry: "self".to_owned(),
        }
    }

    /// A child process.
    pub fn child(name: &'static str, pid: u32) -> Self {
        Self {
            name,
            proc_entry: pid.to_string(),
        }
    }
}

/// What a pass used.
#[derive(Clone)]
pub struct CpuUse {
    /// Fraction of all CPUs' time that was busy.
    pub busy: f64,
    /// CPU time per request of the whole machine, in microseconds.
    pub machine_us: f64,
    /// CPU time per request of each watched process, in microseconds.
    pub processes_us: Vec<(&'static str, f64)>,
}

impl CpuUse {
    /// "CPUs 94% busy, 275 µs CPU/request (gateway 40, ...)".
    pub fn describe(&self) -> String {
        let processes: Vec<String> = self
            .processes_us
            .iter()
            .map(|(name, us)| format!("{us:.0} in {name}"))
            .collect();
        format!(
            "CPUs {:.0}% busy, {:.0} µs CPU/request ({})",
            self.busy * 100.0,
            self.machine_us,
            processes.join(", ")
        )
    }
}

/// Cumulative CPU counters, in clock ticks (`USER_HZ`, 100 per second on Linux).
pub struct CpuSample {
    machine_busy: u64,
    machine_total: u64,
    processes: Vec<(&'static str, u64)>,
}

impl CpuSample {
    const TICK_US: f64 = 10_000.0;

    /// The counters now; `None` where `/proc` cannot be read (not Linux).
    pub fn now(watched: &[Watched]) -> Option<Self> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let fields: Vec<u64> = stat
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .filter_map(|v| v.parse().ok())
            .collect();
        let machine_total: u64 = fields.iter().sum();
        // idle and iowait are the 4th and 5th columns.
        let idle = fields.get(3)? + fields.get(4).unwrap_or(&0);
        let processes = watched
            .iter()
            .map(|w| Some((w.name, process_ticks(&w.proc_entry)?)))
            .collect::<Option<Vec<_>>>()?;
        Some(Self {
            machine_busy: machine_total - idle,
            machine_total,
            processes,
        })
    }

    /// What was used between `before` and `self`, over `requests` requests.
    pub fn since(&self, before: &Self, requests: usize) -> CpuUse {
        let busy = self.machine_busy - before.machine_busy;
        let per_request = |ticks: u64| ticks as f64 * Self::TICK_US / requests.max(1) as f64;
        CpuUse {
            busy: busy as f64 / (self.machine_total - before.machine_total).max(1) as f64,
            machine_us: per_request(busy),
            processes_us: self
                .processes
                .iter()
                .zip(&before.processes)
                .map(|((name, after), (_, before))| (*name, per_request(after - before)))
                .collect(),
        }
    }
}

/// utime + stime of a process, fields 14 and 15 of its `stat`, counted after the
/// `(name)` that may hold spaces.
fn process_ticks(proc_entry: &str) -> Option<u64> {
    let own = std::fs::read_to_string(format!("/proc/{proc_entry}/stat")).ok()?;
    let after_name: Vec<&str> = own.rsplit_once(')')?.1.split_whitespace().collect();
    Some(after_name.get(11)?.parse::<u64>().ok()? + after_name.get(12)?.parse::<u64>().ok()?)
}
