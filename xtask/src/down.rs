//! `cargo xtask down`: stops everything `up` started, newest first, broker last.

use anyhow::{bail, Result};

use crate::{broker, processes, stack::PROCESSES};

/// Stops every process that has a pid file, including a broker xtask started.
pub fn run() -> Result<()> {
    let names = PROCESSES
        .iter()
        .rev()
        .map(|process| process.name)
        .chain([broker::NAME]);
    let mut failures = Vec::new();
    for name in names {
        match processes::stop(name) {
            Ok(true) => say!("stopped {name}"),
            Ok(false) => say!("{name}: not running"),
            Err(error) => {
                eprintln!("xtask: {error:#}");
                failures.push(name);
            }
        }
    }
    if !failures.is_empty() {
        bail!("could not stop: {}", failures.join(", "));
    }
    Ok(())
}
