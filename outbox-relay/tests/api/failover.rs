//! Failover when the leader's host vanishes: no FIN, no RST, packets simply stop.
//!
//! The leader reaches Postgres through a TCP proxy of this test; "vanishing" drops
//! every packet of both legs of that proxy in the kernel (a `tc` ingress filter on
//! `lo`), so neither Postgres nor the leader gets an answer, not even a TCP ACK. A
//! userspace proxy that merely stopped forwarding would not do: its kernel would
//! still ACK keepalive probes and keep both sessions looking alive.

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use comanda_testkit::eventually;
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::{
    create_topic, read_topic, shared_brokers, unique_topic, RelayProcess, SourceDb,
};

/// How soon after the vanish a standby must lead and publish (issue #12 item 2).
const FAILOVER_BUDGET: Duration = Duration::from_secs(15);

#[tokio::test]
async fn a_standby_leads_and_publishes_within_15_s_when_the_leaders_host_vanishes() {
    // A row committed during the outage sends a NOTIFY to the dead session: data
    // that waits for an ACK, which keepalives do not cover (the user timeout does).
    fails_over_within_budget(CommitDuringOutage::Yes).await;
}

#[tokio::test]
async fn a_standby_leads_within_15_s_when_an_idle_leaders_host_vanishes() {
    // Nothing is sent to the dead session: its backend can only notice through
    // keepalive probes that go unanswered.
    fails_over_within_budget(CommitDuringOutage::No).await;
}

#[derive(PartialEq)]
enum CommitDuringOutage {
    Yes,
    No,
}

/// relay-a leads through the proxy, relay-b stands by on a direct session; then
/// relay-a's host vanishes. Within [`FAILOVER_BUDGET`] relay-b must hold the lock and
/// have published a row committed after the vanish (during the outage, or right
/// after relay-b took the lock).
async fn fails_over_within_budget(commit: CommitDuringOutage) {
    let db = SourceDb::new().await;
    let brokers = shared_brokers();
    let topic = unique_topic("vanish");
    let after = unique_topic("vanish-after");
    create_topic(&brokers, &topic).await;
    create_topic(&brokers, &after).await;
    let proxy = Proxy::start(&db.url).await;

    let _leader = RelayProcess::spawn(&proxy.url, &brokers, "relay-a", &[]);
    eventually(Duration::from_secs(20), "relay-a leads", || async {
        db.leader().await.as_deref() == Some("relay-a")
    })
    .await;
    let _standby = RelayProcess::spawn(&db.url, &brokers, "relay-b", &[]);
    eventually(Duration::from_secs(20), "relay-b stands by", || async {
        db.count("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'relay-b'")
            .await
            == 1
    })
    .await;
    db.insert_events(&topic, 20, 4).await;
    eventually(
        Duration::from_secs(20),
        "relay-a publishes through the proxy",
        || async { db.published().await == 20 },
    )
    .await;
    assert_eq!(db.leader().await.as_deref(), Some("relay-a"));

    let _blackhole = Blackhole::drop_ports(&proxy.ports());
    let vanished = Instant::now();
    if commit == CommitDuringOutage::Yes {
        db.insert_events(&after, 1, 1).await;
    }
    let mut led_after = None;
    loop {
        if led_after.is_none() && db.leader().await.as_deref() == Some("relay-b") {
            led_after = Some(vanished.elapsed());
            if commit == CommitDuringOutage::No {
                db.insert_events(&after, 1, 1).await;
            }
        }
        if led_after.is_some() && db.published().await == 21 {
            break;
        }
        assert!(
            vanished.elapsed() < FAILOVER_BUDGET,
            "{FAILOVER_BUDGET:?} after relay-a's host vanished: leader {:?}, {} of 21 rows published",
            db.leader().await,
            db.published().await,
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let published_after = vanished.elapsed();
    eprintln!("after the vanish: relay-b led at {led_after:?}, published at {published_after:?}");

    // The old leader must notice too, rather than wait on its dead session.
    let sessions = proxy.client_ports();
    eventually(
        FAILOVER_BUDGET.saturating_sub(vanished.elapsed()),
        "relay-a drops its dead session within 15 s of the vanish",
        || async { !sessions.iter().any(|port| established_from(*port)) },
    )
    .await;
    eprintln!(
        "after the vanish: relay-a dropped its session by {:?}",
        vanished.elapsed()
    );

    let records = read_topic(&brokers, &after, 1, Duration::from_secs(20)).await;
    assert_eq!(
        records.len(),
        1,
        "the row committed after the vanish is on its topic"
    );
}

/// A TCP proxy to the source's Postgres whose ports can be black-holed.
struct Proxy {
    /// The source URL with the proxy in place of Postgres.
    url: String,
    listen_port: u16,
    /// Local ports of the proxy's own connections to Postgres.
    upstream_ports: Arc<Mutex<Vec<u16>>>,
    /// Ports the leader's connections to the proxy come from.
    client_ports: Arc<Mutex<Vec<u16>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(source_url: &str) -> Self {
        let config = tokio_postgres::Config::from_str(source_url).expect("a postgres URL");
        let host = match &config.get_hosts()[0] {
            tokio_postgres::config::Host::Tcp(host) => host.clone(),
            other => panic!("the failover test needs Postgres over TCP, not {other:?}"),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let upstream: SocketAddr = format!("{host}:{port}")
            .parse()
            .expect("DATABASE_ADMIN_URL names Postgres by IP address");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy binds");
        let listen_port = listener.local_addr().expect("bound").port();
        let url = source_url.replacen(
            &format!("{host}:{port}"),
            &format!("127.0.0.1:{listen_port}"),
            1,
        );
        assert_ne!(url, source_url, "the source URL names host:port");
        let upstream_ports = Arc::new(Mutex::new(Vec::new()));
        let client_ports = Arc::new(Mutex::new(Vec::new()));
        let ports = Arc::clone(&upstream_ports);
        let clients = Arc::clone(&client_ports);
        let task = tokio::spawn(async move {
            while let Ok((mut client, peer)) = listener.accept().await {
                clients.lock().expect("not poisoned").push(peer.port());
                let Ok(mut server) = TcpStream::connect(upstream).await else {
                    continue;
                };
                let local = server.local_addr().expect("connected").port();
                ports.lock().expect("not poisoned").push(local);
                tokio::spawn(async move {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                });
            }
        });
        Self {
            url,
            listen_port,
            upstream_ports,
            client_ports,
            task,
        }
    }

    /// Ports of the leader's connections to the proxy, so far.
    fn client_ports(&self) -> Vec<u16> {
        self.client_ports.lock().expect("not poisoned").clone()
    }

    /// Every local port of the proxy: where the leader connects, and where the
    /// proxy's connections to Postgres come from.
    fn ports(&self) -> Vec<u16> {
        let mut ports = vec![self.listen_port];
        ports.extend(self.upstream_ports.lock().expect("not poisoned").iter());
        ports
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Kernel-level packet loss on `lo` for some TCP ports, in both directions.
///
/// A classic-BPF filter in direct-action mode on the `clsact` ingress hook of `lo`
/// returns "shot" for IPv4 TCP packets from or to those ports: they are dropped on
/// arrival, so the sender sees a successful send and then nothing (no error, no
/// RST, no ACK), as when a host vanishes. (This kernel has neither `netem` nor
/// `prio` nor the `gact` drop action; `cls_bpf` needs none of them. A drop on the
/// egress side would not do either: TCP counts a local drop as congestion and
/// never as a lost keepalive probe.) Removed on drop, and by a detached watchdog
/// after two minutes should this process die before it can drop the guard.
struct Blackhole {
    pref: String,
    watchdog: Option<std::process::Child>,
}

impl Blackhole {
    fn drop_ports(ports: &[u16]) -> Self {
        // Fails when `lo` has a clsact qdisc already: that is fine, we add to it.
        tc(&["qdisc", "add", "dev", "lo", "clsact"]);
        // One preference of our own, unique while the proxy's port is bound, so the
        // guard removes exactly this filter.
        let mut guard = Self {
            pref: ports[0].to_string(),
            watchdog: None,
        };
        assert!(
            tc(&[
                "filter",
                "add",
                "dev",
                "lo",
                "ingress",
                "pref",
                &guard.pref,
                "bpf",
                "da",
                "bytecode",
                &drop_program(ports),
            ]),
            "the failover test needs `tc` with cls_bpf and CAP_NET_ADMIN to drop packets on lo"
        );
        guard.watchdog = Command::new("setsid")
            .args([
                "sh",
                "-c",
                &format!(
                    "sleep 120; tc filter del dev lo ingress pref {}",
                    guard.pref
                ),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok();
        guard
    }
}

impl Drop for Blackhole {
    fn drop(&mut self) {
        tc(&["filter", "del", "dev", "lo", "ingress", "pref", &self.pref]);
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
        // Leave the qdisc to whoever else filters on `lo`; remove it when empty.
        let empty = ["ingress", "egress"].iter().all(|hook| {
            Command::new("tc")
                .args(["filter", "show", "dev", "lo", hook])
                .output()
                .is_ok_and(|out| out.status.success() && out.stdout.is_empty())
        });
        if empty {
            tc(&["qdisc", "del", "dev", "lo", "clsact"]);
        }
    }
}

/// The classic-BPF program (in `tc ... bytecode` notation) that answers "shot" (2)
/// for IPv4 TCP packets whose source or destination port is in `ports`, and
/// "unspecified" (pass on) for everything else. At `lo` ingress the packet starts
/// with its 14-byte Ethernet header.
fn drop_program(ports: &[u16]) -> String {
    const LDH_ABS: u16 = 0x28;
    const LDB_ABS: u16 = 0x30;
    const LDH_IND: u16 = 0x48;
    const LDXB_MSH: u16 = 0xb1;
    const JEQ: u16 = 0x15;
    const JSET: u16 = 0x45;
    const RET: u16 = 0x06;
    const SHOT: u32 = 2;
    const UNSPEC: u32 = u32::MAX;
    let n = ports.len();
    let total = 8 + n + 1 + n + 2;
    let (pass, drop) = (total - 2, total - 1);
    let mut program: Vec<(u16, usize, usize, u32)> = Vec::with_capacity(total);
    // A jump at index `at` to `target` on true and `otherwise` on false.
    let jump = |at: usize, op: u16, k: u32, target: usize, otherwise: usize| {
        (op, target - at - 1, otherwise - at - 1, k)
    };
    program.push((LDH_ABS, 0, 0, 12)); // EtherType
    program.push(jump(1, JEQ, 0x0800, 2, pass)); // IPv4
    program.push((LDB_ABS, 0, 0, 23)); // IP protocol
    program.push(jump(3, JEQ, 6, 4, pass)); // TCP
    program.push((LDH_ABS, 0, 0, 20)); // flags and fragment offset
    program.push(jump(5, JSET, 0x1fff, pass, 6)); // later fragments carry no ports
    program.push((LDXB_MSH, 0, 0, 14)); // X = IP header length
    program.push((LDH_IND, 0, 0, 14)); // TCP source port
    for (i, port) in ports.iter().enumerate() {
        let at = 8 + i;
        program.push(jump(at, JEQ, u32::from(*port), drop, at + 1));
    }
    program.push((LDH_IND, 0, 0, 16)); // TCP destination port
    for (i, port) in ports.iter().enumerate() {
        let at = 9 + n + i;
        program.push(jump(at, JEQ, u32::from(*port), drop, at + 1));
    }
    program.push((RET, 0, 0, UNSPEC));
    program.push((RET, 0, 0, SHOT));
    debug_assert_eq!(program.len(), total);
    let body: Vec<String> = program
        .iter()
        .map(|(op, jt, jf, k)| format!("{op} {jt} {jf} {k}"))
        .collect();
    format!("{},{}", program.len(), body.join(","))
}

/// Whether this host has an established IPv4 TCP connection from local `port`.
fn established_from(port: u16) -> bool {
    const ESTABLISHED: &str = "01";
    let table = std::fs::read_to_string("/proc/net/tcp").expect("reads /proc/net/tcp");
    let local = format!(":{port:04X}");
    table.lines().skip(1).any(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        fields
            .get(1)
            .is_some_and(|address| address.ends_with(&local))
            && fields.get(3) == Some(&ESTABLISHED)
    })
}

/// Runs `tc`; true when it succeeded.
fn tc(args: &[&str]) -> bool {
    Command::new("tc")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}
