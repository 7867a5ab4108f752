//! One relay source: a service database, reached over a Postgres session (and a
//! second one that only marks rows published, see [`Source`]).
//!
//! The session matters: the advisory lock that makes this relay the source's only
//! publisher belongs to it, and so does `LISTEN outbox`. When the session dies
//! Postgres releases the lock at once, which is what lets a standby take over.
//!
//! "Dies" must include a leader whose host vanished without closing anything (power
//! loss, a partition): no FIN, no RST, just silence. By default neither end would
//! notice for hours (the OS keepalive starts after 2 h idle, and unacknowledged
//! data, such as a NOTIFY for the leader, is retransmitted for ~15 min), and the
//! backend would hold the lock all that time. So both ends of every source session
//! get the [`DeadPeerDetection`] timeouts: the backend through its per-session
//! settings, the relay on its own socket.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use tokio::sync::Notify;
use tokio_postgres::types::Type;
use tokio_postgres::{AsyncMessage, Client, NoTls};
use uuid::Uuid;

/// Advisory lock key held by the active publisher of a database ("comanda-outbox"
/// in ASCII). Advisory locks are per database, so one constant serves every source.
pub const LEADER_LOCK_KEY: i64 = 0x636f_6d61_6e64_6101;

/// An unpublished outbox row, as the relay sends it.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    /// Publish order.
    pub id: i64,
    /// Event id (UUIDv7), sent as header `id`.
    pub event_id: Uuid,
    /// Destination topic.
    pub topic: String,
    /// Kafka key (the aggregate id).
    pub key: String,
    /// Event type, sent as header `type`.
    pub event_type: String,
    /// Flow id, sent as header `correlation_id`.
    pub correlation_id: String,
    /// W3C trace context, sent as header `traceparent`.
    pub traceparent: Option<String>,
    /// The envelope JSON, sent as the record value.
    pub payload: String,
    /// When the producing transaction wrote the row.
    pub created_at: DateTime<Utc>,
}

/// How far behind publishing is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backlog {
    /// Unpublished rows.
    pub rows: i64,
    /// Age of the oldest unpublished row in seconds (0 when none).
    pub oldest_age_seconds: f64,
}

/// How both ends of a source session notice a peer that went silent: TCP keepalive
/// probes while the session is idle, and a TCP user timeout while sent data (a
/// query, a NOTIFY) waits for its acknowledgement.
///
/// With the defaults a vanished peer is dropped about 8 s after it went silent
/// (Linux drops a connection once `tcp_user_timeout` passed with probes or data
/// unanswered), so the backend of a vanished leader releases the leader lock then,
/// and a standby takes it at its next retry. A value of zero leaves that knob at
/// the OS default. Postgres takes the keepalive times in whole seconds (rounded
/// up) and ignores all four on Unix-socket connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadPeerDetection {
    /// Silence after which the first keepalive probe goes out (default 5 s).
    pub keepalive_idle: Duration,
    /// Time between keepalive probes (default 1 s).
    pub keepalive_interval: Duration,
    /// Unanswered probes after which the connection is dropped (default 3).
    pub keepalive_retries: u32,
    /// How long data or probes may stay unacknowledged before the connection is
    /// dropped; also bounds the relay's TCP connect (default 8 s).
    pub tcp_user_timeout: Duration,
}

impl Default for DeadPeerDetection {
    fn default() -> Self {
        Self {
            keepalive_idle: Duration::from_secs(5),
            keepalive_interval: Duration::from_secs(1),
            keepalive_retries: 3,
            tcp_user_timeout: Duration::from_secs(8),
        }
    }
}

impl DeadPeerDetection {
    /// The relay's end: keepalives and user timeout on its own socket.
    fn apply_to(&self, config: &mut tokio_postgres::Config) {
        config.keepalives(true);
        if !self.keepalive_idle.is_zero() {
            config.keepalives_idle(self.keepalive_idle);
        }
        if !self.keepalive_interval.is_zero() {
            config.keepalives_interval(self.keepalive_interval);
        }
        if self.keepalive_retries > 0 {
            config.keepalives_retries(self.keepalive_retries);
        }
        if !self.tcp_user_timeout.is_zero() {
            config.tcp_user_timeout(self.tcp_user_timeout);
            config.connect_timeout(self.tcp_user_timeout);
        }
    }

    /// The backend's end: the same timeouts as session settings (all four may be
    /// set by any user since Postgres 12).
    fn session_settings(&self) -> String {
        let secs = |d: Duration| d.as_millis().div_ceil(1000);
        format!(
            "SET tcp_keepalives_idle = {}; SET tcp_keepalives_interval = {}; \
             SET tcp_keepalives_count = {}; SET tcp_user_timeout = {};",
            secs(self.keepalive_idle),
            secs(self.keepalive_interval),
            self.keepalive_retries,
            self.tcp_user_timeout.as_millis(),
        )
    }
}

/// A live session on one source database, and a second one for the marks.
pub struct Source {
    client: Client,
    /// Marks rows published on a session of its own, so that Postgres marks batch N-1
    /// while it reads batch N+1 (the drain's two database steps in parallel, not one
    /// after the other on one session). It holds no lock and listens to nothing: a
    /// mark is idempotent and safe from any session.
    marks: Client,
    woken: Arc<Notify>,
}

impl Source {
    /// Connects, names the session after `instance` (visible in `pg_stat_activity`)
    /// and, when `listen`, starts listening for outbox inserts; with the default
    /// [`DeadPeerDetection`].
    pub async fn connect(url: &str, instance: &str, listen: bool) -> anyhow::Result<Self> {
        Self::connect_with(url, instance, listen, &DeadPeerDetection::default()).await
    }

    /// [`Source::connect`] with the given dead-peer timeouts on both ends.
    pub async fn connect_with(
        url: &str,
        instance: &str,
        listen: bool,
        dead_peer: &DeadPeerDetection,
    ) -> anyhow::Result<Self> {
        let mut config: tokio_postgres::Config =
            url.parse().context("parsing the source database URL")?;
        dead_peer.apply_to(&mut config);
        let (client, mut connection) = config
            .connect(NoTls)
            .await
            .context("connecting to the source database")?;
        let (marks, marks_connection) = config
            .connect(NoTls)
            .await
            .context("connecting to the source database for the marks")?;
        tokio::spawn(async move {
            if let Err(error) = marks_connection.await {
                tracing::warn!(%error, "source connection for the marks failed");
            }
        });
        let woken = Arc::new(Notify::new());
        let wake = Arc::clone(&woken);
        tokio::spawn(async move {
            let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(message) = messages.next().await {
                match message {
                    Ok(AsyncMessage::Notification(_)) => wake.notify_one(),
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(%error, "source connection failed");
                        break;
                    }
                }
            }
            // Wake the publisher so it notices the closed session promptly.
            wake.notify_one();
        });
        let listen = if listen { "LISTEN outbox;" } else { "" };
        // No bitmap scans in this session: right after a burst of inserts the
        // statistics still say "few unpublished rows", and the planner then reads
        // and sorts the WHOLE backlog for every batch (48 ms per claim at 30k rows,
        // measured) instead of walking `outbox_unpublished_idx` in id order and
        // stopping after one batch (0.7 ms). Every query of the relay wants the
        // ordered index walk.
        // No waiting for the WAL flush either: a mark lost in a Postgres crash only
        // means the row is published again, and consumers absorb duplicates.
        // The backend's dead-peer timeouts are set before anything else, in
        // particular before this session can take the leader lock.
        let session = |name: &str| {
            format!(
                "{} SET application_name = '{}'; SET enable_bitmapscan = off; \
                 SET synchronous_commit = off;",
                dead_peer.session_settings(),
                name.replace('\'', "")
            )
        };
        client
            .batch_execute(&format!("{} {listen}", session(instance)))
            .await
            .context("setting up the source session")?;
        // Named apart (`<instance>/marks`), so the lock holder is the session that
        // carries the instance's own name.
        marks
            .batch_execute(&session(&format!("{instance}/marks")))
            .await
            .context("setting up the source session for the marks")?;
        Ok(Self {
            client,
            marks,
            woken,
        })
    }

    /// True once either session is gone (leadership is lost with the first).
    pub fn is_closed(&self) -> bool {
        self.client.is_closed() || self.marks.is_closed()
    }

    /// Tries to become the source's only publisher; true when this session holds the lock.
    pub async fn try_lead(&self) -> anyhow::Result<bool> {
        let row = self
            .client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&LEADER_LOCK_KEY])
            .await?;
        Ok(row.get(0))
    }

    /// The oldest `limit` unpublished rows, in publish order, leaving out `in_flight`
    /// (rows sent or being marked published right now).
    ///
    /// Always from the oldest unpublished row, never from a cursor: a transaction that
    /// took a lower id but committed after a claim shows up *below* the rows already
    /// claimed, and must be sent before any later row of its key. One snapshot sees a
    /// key's rows as a prefix of their commit order (a key's next row commits only
    /// after the row lock of the previous one is released), so taking every visible
    /// row in id order keeps each key in commit order. Postgres hashes the `<> ALL`
    /// list (15+), so skipping the in-flight rows costs little.
    ///
    /// Sent typed and unnamed (`query_typed`): one round trip, where a plain `query`
    /// takes two (it prepares first to learn the parameter types), and no prepared
    /// statement that a migration changing `outbox` could leave stale (a named one
    /// fails for good with "cached plan must not change result type").
    pub async fn claim(&self, in_flight: &[i64], limit: i64) -> anyhow::Result<Vec<OutboxRow>> {
        let rows = self
            .client
            .query_typed(
                "SELECT id, event_id, topic, kafka_key, event_type, correlation_id, traceparent, \
                 payload::text, created_at \
                 FROM outbox WHERE published_at IS NULL AND id <> ALL($1) ORDER BY id LIMIT $2",
                &[(&in_flight, Type::INT8_ARRAY), (&limit, Type::INT8)],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| OutboxRow {
                id: r.get(0),
                event_id: r.get(1),
                topic: r.get(2),
                key: r.get(3),
                event_type: r.get(4),
                correlation_id: r.get(5),
                traceparent: r.get(6),
                payload: r.get(7),
                created_at: r.get(8),
            })
            .collect())
    }

    /// Marks rows as published (after the broker acked them); typed and unnamed, one
    /// round trip, as [`Self::claim`].
    pub async fn mark_published(&self, ids: &[i64]) -> anyhow::Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        self.marks
            .query_typed(
                "UPDATE outbox SET published_at = clock_timestamp() WHERE id = ANY($1)",
                &[(&ids, Type::INT8_ARRAY)],
            )
            .await?;
        Ok(())
    }

    /// Counts the unpublished rows and the age of the oldest.
    pub async fn backlog(&self) -> anyhow::Result<Backlog> {
        let row = self
            .client
            .query_one(
                "SELECT count(*), COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - min(created_at))::float8, 0) \
                 FROM outbox WHERE published_at IS NULL",
                &[],
            )
            .await?;
        Ok(Backlog {
            rows: row.get(0),
            oldest_age_seconds: row.get(1),
        })
    }

    /// Deletes published rows older than `published` and processed-message rows
    /// older than `processed`; returns how many of each went.
    pub async fn apply_retention(
        &self,
        published: Duration,
        processed: Duration,
    ) -> anyhow::Result<(u64, u64)> {
        let outbox = self
            .client
            .execute(
                // Rows are published in id order, so the deletable rows lie below
                // the oldest unpublished one: walk that primary-key range only.
                "DELETE FROM outbox WHERE id < COALESCE( \
                   (SELECT min(id) FROM outbox WHERE published_at IS NULL), \
                   (SELECT max(id) + 1 FROM outbox), 0) \
                 AND published_at < clock_timestamp() - make_interval(secs => $1)",
                &[&published.as_secs_f64()],
            )
            .await?;
        let inbox = self
            .client
            .execute(
                "DELETE FROM processed_messages WHERE processed_at < clock_timestamp() - make_interval(secs => $1)",
                &[&processed.as_secs_f64()],
            )
            .await?;
        Ok((outbox, inbox))
    }

    /// Waits for an outbox insert to commit, or `timeout` (the fallback poll).
    pub async fn wait_for_inserts(&self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.woken.notified()).await;
    }
}
