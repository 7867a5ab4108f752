//! A tansu broker of one test's own, on a port of its own ([`crate::ports`]): for
//! tests that pause, kill or restart the broker, which they must never do to the
//! shared one other tests use.
//!
//! The binary is `TANSU_BIN` (what `cargo xtask test` sets), else `~/.cargo/bin/tansu`,
//! else `tansu` on `PATH`. Storage is memory: a restarted broker starts empty.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::ports::Port;

/// How long tansu gets to accept connections after it starts.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A tansu process this test owns. It is resumed and killed when dropped.
pub struct PrivateBroker {
    /// Claimed for the broker's lifetime, so a restart gets the same port back.
    port: Port,
    child: Option<Child>,
}

impl PrivateBroker {
    /// Starts tansu on a free port and waits until it accepts connections.
    pub fn start() -> Self {
        let mut broker = Self {
            port: Port::claim(),
            child: None,
        };
        broker.restart();
        broker
    }

    /// Whether the broker process has ended (e.g. it could not bind its port).
    fn exited(&mut self) -> bool {
        self.child
            .as_mut()
            .is_none_or(|c| matches!(c.try_wait(), Ok(Some(_))))
    }

    /// Bootstrap servers, e.g. `127.0.0.1:40123`.
    pub fn brokers(&self) -> String {
        format!("127.0.0.1:{}", self.port.number())
    }

    /// The broker's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Starts (again) on the same port; memory storage starts empty.
    pub fn restart(&mut self) {
        self.kill();
        let url = format!("tcp://127.0.0.1:{}", self.port.number());
        let mut command = Command::new(tansu_bin());
        command
            .args(["broker", "--listener-url", &url])
            .args(["--advertised-listener-url", &url])
            .args(["--storage-engine", "memory://tansu/"])
            .stdin(Stdio::null());
        if std::env::var_os("TEST_LOG").is_none() {
            command.stdout(Stdio::null()).stderr(Stdio::null());
        }
        self.child = Some(command.spawn().expect("tansu starts (TANSU_BIN?)"));
        let deadline = Instant::now() + START_TIMEOUT;
        // Only while our tansu runs does a listener on the port mean it is up.
        while TcpStream::connect(("127.0.0.1", self.port.number())).is_err() || self.exited() {
            assert!(
                Instant::now() < deadline,
                "tansu did not listen on {}",
                self.port.number()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends `signal` to the broker, e.g. SIGSTOP to freeze it and SIGCONT to resume it.
    pub fn signal(&self, signal: Signal) {
        let pid = self.pid().expect("the broker runs");
        kill(Pid::from_raw(pid as i32), signal).expect("signal delivered");
    }

    /// Kills the broker (resuming it first, in case it was stopped).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGCONT);
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateBroker {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `TANSU_BIN`, else `~/.cargo/bin/tansu`, else `tansu` (found on `PATH`).
pub fn tansu_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("TANSU_BIN") {
        return path.into();
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let installed = home.join(".cargo/bin/tansu");
    if installed.exists() {
        installed
    } else {
        "tansu".into()
    }
}
