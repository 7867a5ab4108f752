//! CPU time of a process, read from `/proc` (Linux), for benchmarks that price what a
//! process (the broker, the bench itself) spends.

/// User + system CPU seconds of process `entry` so far: a pid, or `self`. 0 when the
/// process cannot be read (gone, or not Linux).
pub fn cpu_seconds(entry: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{entry}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line: 11 and 12 after the ')'.
    (ticks(11) + ticks(12)) / CLOCK_TICKS_PER_SECOND
}

/// `sysconf(_SC_CLK_TCK)`: 100 on every Linux this runs on (not reachable without
/// unsafe code).
const CLOCK_TICKS_PER_SECOND: f64 = 100.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_spending_cpu_shows_and_a_missing_one_reads_zero() {
        let started = cpu_seconds("self");
        let give_up = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut x = 0u64;
        while cpu_seconds("self") <= started && std::time::Instant::now() < give_up {
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
            }
        }
        assert!(cpu_seconds("self") > started, "spinning shows in /proc");
        assert_eq!(cpu_seconds("not-a-pid"), 0.0);
    }
}
