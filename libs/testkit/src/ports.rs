//! Ports for processes a test starts (an e2e stack's services, a private broker) that
//! nothing else on the machine is handed meanwhile.
//!
//! A port found free by binding port 0 and letting it go is a race: the kernel hands
//! that same port to the next bind of port 0 — every in-process test app of the other
//! tests running in parallel binds one — or to an outgoing connection. A stack's
//! process that then cannot bind its port exits, while the foreign app answers its
//! `/ready` with 200, so the stack believes it is up without it: a CI run saw an
//! account stay PENDING for a minute because the stack's user-service never ran, and
//! requests to "the gateway" answered by another test's service.
//!
//! A private broker on such a port is the same race: tansu cannot bind it, and the
//! test's Kafka client talks to somebody's HTTP server.
//!
//! So these ports come from [`RANGE`], below the kernel's ephemeral range (which
//! bind(0) and outgoing connections draw from), and each is claimed with an exclusive
//! `flock` on a file named after it, held while its owner lives: test processes
//! running in parallel never claim the same one, and a crashed test's claims end with
//! its process.

use std::fs::{File, OpenOptions};
use std::net::TcpListener;
use std::ops::Range;
use std::sync::atomic::{AtomicU16, Ordering};

use nix::fcntl::{Flock, FlockArg};

/// Where stacks take their ports from: below Linux's default ephemeral range
/// (32768–60999, `net.ipv4.ip_local_port_range`).
pub const RANGE: Range<u16> = 21_000..32_000;

/// A port claimed for one process a test starts; the claim ends when this drops.
#[derive(Debug)]
pub struct Port {
    number: u16,
    _claim: Flock<File>,
}

impl Port {
    /// The port's number.
    pub fn number(&self) -> u16 {
        self.number
    }

    /// Claims a port of [`RANGE`] that no other test holds and nothing listens on.
    pub fn claim() -> Self {
        assert_below_ephemeral_range();
        let dir = std::env::temp_dir().join("comanda-test-ports");
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        // Start where other test processes are unlikely to look, to rarely meet a claim.
        static NEXT: AtomicU16 = AtomicU16::new(0);
        let span = RANGE.end - RANGE.start;
        let offset = (std::process::id() as u16).wrapping_mul(97) % span;
        for _ in 0..span {
            let step = NEXT.fetch_add(1, Ordering::Relaxed) % span;
            let number = RANGE.start + (offset + step) % span;
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(dir.join(number.to_string()))
                .unwrap_or_else(|e| panic!("opening the claim of port {number}: {e}"));
            let Ok(claim) = Flock::lock(file, FlockArg::LockExclusiveNonblock) else {
                continue; // another test's
            };
            if TcpListener::bind(("127.0.0.1", number)).is_ok() {
                return Self {
                    number,
                    _claim: claim,
                };
            }
        }
        panic!("no free port in {RANGE:?}");
    }
}

/// [`RANGE`] is only safe from bind(0) below the ephemeral range; say so plainly on a
/// machine configured otherwise.
fn assert_below_ephemeral_range() {
    let Ok(text) = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range") else {
        return;
    };
    let first = text
        .split_whitespace()
        .next()
        .and_then(|n| n.parse::<u16>().ok());
    if let Some(first) = first {
        assert!(
            first >= RANGE.end,
            "tests take ports for the processes they start from {RANGE:?}, but this machine's ephemeral range \
             starts at {first} (net.ipv4.ip_local_port_range): set it to start at {} or above",
            RANGE.end
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claimed_port_is_never_claimed_again_while_held() {
        let held = Port::claim();
        let others: Vec<Port> = (0..64).map(|_| Port::claim()).collect();
        assert!(others.iter().all(|p| p.number() != held.number()));
        let mut numbers: Vec<u16> = others.iter().map(Port::number).collect();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(
            numbers.len(),
            others.len(),
            "each claim is a port of its own"
        );
    }

    #[test]
    fn binding_port_zero_never_hands_out_a_port_of_the_range() {
        let listeners: Vec<TcpListener> = (0..200)
            .map(|_| TcpListener::bind("127.0.0.1:0").expect("a port"))
            .collect();
        for listener in &listeners {
            let port = listener.local_addr().expect("an address").port();
            assert!(!RANGE.contains(&port), "bind(0) gave {port}");
        }
    }
}
