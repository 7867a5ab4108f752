//! Processes xtask starts in the background: each gets `.comanda/logs/<name>.log` and
//! `.comanda/pids/<name>.pid`, so a later `cargo xtask down` can find and stop it.

use std::{
    fs, io,
    os::unix::process::CommandExt,
    path::Path,
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};

use crate::workspace;

/// How long a process gets to exit after SIGTERM before it gets SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Which process group a background process joins; this decides what Ctrl-C does to it.
#[derive(Clone, Copy, Debug)]
pub enum Group {
    /// Its own group: it survives Ctrl-C of xtask and keeps running (`up`).
    Own,
    /// The group of xtask: Ctrl-C in the terminal stops it together with xtask (`test`).
    Ours,
}

/// Starts `command` in the background, with output to its log file and its pid recorded.
pub fn spawn(name: &str, command: &mut Command, group: Group) -> Result<Child> {
    let log_path = workspace::log_file(name);
    let pid_path = workspace::pid_file(name);
    for dir in [log_path.parent(), pid_path.parent()].into_iter().flatten() {
        fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    }
    let log = fs::File::create(&log_path)
        .with_context(|| format!("could not create {}", log_path.display()))?;
    command
        .current_dir(workspace::root())
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    if let Group::Own = group {
        command.process_group(0);
    }
    let child = command.spawn().with_context(|| {
        format!(
            "could not start {name} (`{}`)",
            crate::exec::display(command)
        )
    })?;
    fs::write(&pid_path, format!("{}\n", child.id()))
        .with_context(|| format!("could not write {}", pid_path.display()))?;
    Ok(child)
}

/// The pid of `name` if its pid file names a live process.
pub fn running(name: &str) -> Option<u32> {
    let pid = read_pid(name)?;
    is_alive(pid, name).then_some(pid)
}

/// Stops `name` (SIGTERM, then SIGKILL after a grace period) and removes its pid file.
///
/// Returns whether a live process was stopped.
pub fn stop(name: &str) -> Result<bool> {
    let Some(pid) = read_pid(name) else {
        return Ok(false);
    };
    let was_alive = is_alive(pid, name);
    if was_alive {
        signal(pid, name, "TERM")?;
        if !wait_for_exit(pid, name, STOP_GRACE) {
            say!(
                "{name} (pid {pid}) still running {}s after SIGTERM; sending SIGKILL",
                STOP_GRACE.as_secs()
            );
            signal(pid, name, "KILL")?;
            if !wait_for_exit(pid, name, Duration::from_secs(5)) {
                bail!("{name} (pid {pid}) survived SIGKILL");
            }
        }
    }
    forget(name)?;
    Ok(was_alive)
}

/// Removes the pid file of `name`, e.g. after it exited on its own.
pub fn forget(name: &str) -> Result<()> {
    let pid_path = workspace::pid_file(name);
    match fs::remove_file(&pid_path) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => {
            Err(error).with_context(|| format!("could not remove {}", pid_path.display()))
        }
        _ => Ok(()),
    }
}

/// The last `lines` lines of the log of `name`, indented for printing under a message.
pub fn log_tail(name: &str, lines: usize) -> String {
    let log_path = workspace::log_file(name);
    let Ok(text) = fs::read_to_string(&log_path) else {
        return format!("    (no log at {})", log_path.display());
    };
    let all: Vec<&str> = text.lines().collect();
    if all.is_empty() {
        return format!("    ({} is empty)", log_path.display());
    }
    let tail = &all[all.len().saturating_sub(lines)..];
    let mut out = format!(
        "    --- last {} lines of {} ---",
        tail.len(),
        log_path.display()
    );
    for line in tail {
        out.push_str("\n    | ");
        out.push_str(line);
    }
    out
}

fn read_pid(name: &str) -> Option<u32> {
    fs::read_to_string(workspace::pid_file(name))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Whether `pid` is a running process (not a zombie) that is plausibly `name`.
///
/// On Linux the command line must mention `name`, so a pid recycled after a reboot is never
/// mistaken for ours (and never killed). Elsewhere `kill -0` is the best cheap check.
fn is_alive(pid: u32, name: &str) -> bool {
    let proc_dir = Path::new("/proc").join(pid.to_string());
    if !Path::new("/proc/self").exists() {
        return Command::new("kill")
            .args(["-0", &pid.to_string()])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
    }
    let Ok(stat) = fs::read_to_string(proc_dir.join("stat")) else {
        return false;
    };
    // "<pid> (<comm>) <state> ...": the state follows the last ')'.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    if matches!(state, Some("Z" | "X")) {
        return false;
    }
    let cmdline = fs::read(proc_dir.join("cmdline")).unwrap_or_default();
    String::from_utf8_lossy(&cmdline).contains(name)
}

fn signal(pid: u32, name: &str, signal: &str) -> Result<()> {
    let status = Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .context("could not run `kill`")?;
    // Failing because it just exited is fine.
    if !status.success() && is_alive(pid, name) {
        bail!("could not send SIG{signal} to {name} (pid {pid})");
    }
    Ok(())
}

fn wait_for_exit(pid: u32, name: &str, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while is_alive(pid, name) {
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(100));
    }
    true
}
