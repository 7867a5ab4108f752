//! Where a stack's processes write their output, and what a failed test shows of it.
//!
//! A test that fails on a stack of eight processes says little by itself ("timed out
//! waiting until the account is ACTIVE"): which process stopped doing its part is in
//! their logs. So output is never thrown away while a test runs: it goes to the
//! directory the test chose, or to a scratch directory removed when the stack drops,
//! and a stack dropped by a panicking test prints the end of every process's log.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};

/// How many of a process's last lines a failed test prints.
const TAIL_LINES: usize = 80;

/// Where the processes of one stack write stdout and stderr.
#[derive(Debug)]
pub(crate) enum Logs {
    /// `<dir>/<process>.log` in a directory the test chose; kept.
    Kept(PathBuf),
    /// `<dir>/<process>.log` in a scratch directory, removed with the stack.
    Scratch(PathBuf),
    /// The test's own output (`TEST_LOG` set).
    Inherited,
}

impl Logs {
    /// `dir` if given; else the test's output when `TEST_LOG` is set; else scratch.
    pub(crate) fn new(dir: Option<PathBuf>) -> Self {
        let logs = match dir {
            Some(dir) => Logs::Kept(dir),
            None if std::env::var_os("TEST_LOG").is_some() => Logs::Inherited,
            None => Logs::Scratch(scratch_dir()),
        };
        if let Some(dir) = logs.dir() {
            std::fs::create_dir_all(dir)
                .unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        }
        logs
    }

    fn dir(&self) -> Option<&Path> {
        match self {
            Logs::Kept(dir) | Logs::Scratch(dir) => Some(dir),
            Logs::Inherited => None,
        }
    }

    /// The stdout and stderr `process` gets.
    pub(crate) fn stdio(&self, process: &str) -> (Stdio, Stdio) {
        match self.dir() {
            Some(dir) => {
                let log = append(&dir.join(format!("{process}.log")));
                let copy = log.try_clone().expect("a second log handle");
                (log.into(), copy.into())
            }
            None => (Stdio::inherit(), Stdio::inherit()),
        }
    }

    /// Prints the last lines each of `processes` wrote, to stderr (which the test
    /// runner shows with the failure).
    pub(crate) fn print_tails(&self, processes: &[&str]) {
        let Some(dir) = self.dir() else { return };
        for process in processes {
            let path = dir.join(format!("{process}.log"));
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let lines: Vec<&str> = text.lines().collect();
            let tail = &lines[lines.len().saturating_sub(TAIL_LINES)..];
            eprintln!("----- the last {} lines of {process} -----", tail.len());
            for line in tail {
                eprintln!("{line}");
            }
        }
    }
}

impl Drop for Logs {
    fn drop(&mut self) {
        if let Logs::Scratch(dir) = self {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A directory of its own under the system's temporary directory.
fn scratch_dir() -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("comanda-e2e-{}-{n}", std::process::id()))
}

fn append(path: &Path) -> File {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("opening {}: {e}", path.display()))
}
