//! `cargo xtask dlq list | replay`: read the dead-letter topic and send entries
//! back to their source topics.
//!
//! The work is `comanda_outbox::dead_letters` (the same code the relay's DLQ
//! gauges and the tests use); this file is its command line and table. An entry's
//! id is `<partition>:<offset>` in the DLQ topic. A replay sends the original key,
//! value and headers back, so the event id is kept and consumers' dedupe holds;
//! then it appends a marker to the DLQ, after which the entry is no longer pending.

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use comanda_outbox::dead_letters::{self, DeadLetter, DlqId, Ledger, ReplayMark, Selection};
use comanda_outbox::topics;
use serde_json::json;

/// `cargo xtask dlq`: where the DLQ is, and what to do with it.
#[derive(Debug, Args)]
pub struct Dlq {
    /// What to do.
    #[command(subcommand)]
    command: DlqCommand,
    /// Bootstrap servers.
    #[arg(
        long,
        global = true,
        env = "KAFKA_BROKERS",
        default_value = "127.0.0.1:9092"
    )]
    brokers: String,
    /// The DLQ topic [default: `$COMANDA__KAFKA__TOPIC_PREFIX` + failed.send.event.dlq,
    /// the name the services use].
    #[arg(long, global = true)]
    topic: Option<String>,
}

/// A DLQ command.
#[derive(Debug, Subcommand)]
enum DlqCommand {
    /// Print the pending entries: id, age, type, source topic/partition@offset,
    /// consumer, aggregate id, error.
    List {
        /// Also the entries already replayed.
        #[arg(long)]
        all: bool,
        /// Only entries of this event type.
        #[arg(long = "type", value_name = "TYPE")]
        event_type: Option<String>,
        /// One JSON object per entry (with event id and replay details) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Send entries back to their source topic with their original key, value and headers.
    Replay {
        /// The entry to replay (`<partition>:<offset>`, as `list` prints it).
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        id: Option<DlqId>,
        /// Every pending entry (of `--type`, if given).
        #[arg(long)]
        all: bool,
        /// With `--all`: only entries of this event type.
        #[arg(long = "type", value_name = "TYPE", requires = "all")]
        event_type: Option<String>,
        /// Also entries already replayed (consumers' dedupe makes a repeat harmless).
        #[arg(long)]
        force: bool,
    },
}

/// Runs `cargo xtask dlq ...`.
pub fn run(dlq: Dlq) -> Result<()> {
    let topic = dlq.topic.clone().unwrap_or_else(|| {
        let prefix = std::env::var("COMANDA__KAFKA__TOPIC_PREFIX").unwrap_or_default();
        format!("{prefix}{}", topics::DLQ)
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting a runtime")?;
    runtime.block_on(async {
        let ledger = dead_letters::read(&dlq.brokers, &topic)
            .await
            .with_context(|| format!("reading {topic} at {}", dlq.brokers))?;
        match dlq.command {
            DlqCommand::List {
                all,
                event_type,
                json,
            } => {
                list(&ledger, all, event_type.as_deref(), json);
                Ok(())
            }
            DlqCommand::Replay {
                id,
                all: _,
                event_type,
                force,
            } => {
                let selection = match id {
                    Some(id) => Selection::One(id),
                    None => Selection::All { event_type },
                };
                let entries = dead_letters::select(&ledger, &selection, force)?;
                if entries.is_empty() {
                    say!("nothing to replay in {topic}");
                    return Ok(());
                }
                let replayed = dead_letters::replay(&dlq.brokers, &topic, &entries).await?;
                for r in &replayed {
                    say!(
                        "replayed {} -> {}[{}]@{}",
                        r.id,
                        r.topic,
                        r.partition,
                        r.offset
                    );
                }
                say!("{} replayed from {topic}", replayed.len());
                Ok(())
            }
        }
    })
}

fn list(ledger: &Ledger, all: bool, event_type: Option<&str>, as_json: bool) {
    let now = Utc::now();
    let rows: Vec<(&DeadLetter, Option<&ReplayMark>)> = ledger
        .entries()
        .filter(|(_, replayed)| all || replayed.is_none())
        .filter(|(entry, _)| event_type.is_none_or(|t| entry.event_type.as_deref() == Some(t)))
        .collect();
    if as_json {
        for (entry, replayed) in rows {
            println!("{}", entry_json(entry, replayed, now));
        }
        return;
    }
    println!(
        "{:<8} {:>8} {:<26} {:<40} {:<24} {:<38} ERROR",
        "ID", "AGE", "TYPE", "SOURCE", "CONSUMER", "AGGREGATE"
    );
    for (entry, replayed) in &rows {
        let source = format!(
            "{}[{}]@{}",
            entry.source_topic,
            opt(entry.source_partition),
            opt(entry.source_offset)
        );
        let error = match replayed {
            Some(mark) => format!("(replayed, marker {}) {}", mark.marker, entry.error),
            None => entry.error.clone(),
        };
        println!(
            "{:<8} {:>8} {:<26} {:<40} {:<24} {:<38} {}",
            entry.id.to_string(),
            age(entry.dead_lettered_at, now),
            entry.event_type.as_deref().unwrap_or("-"),
            source,
            entry.consumer,
            entry.aggregate_id.as_deref().unwrap_or("-"),
            error
        );
    }
    let replayed = rows.iter().filter(|(_, r)| r.is_some()).count();
    say!(
        "{} entries listed ({} pending, {replayed} replayed); {} pending in the topic",
        rows.len(),
        rows.len() - replayed,
        ledger.pending_count()
    );
}

fn entry_json(
    entry: &DeadLetter,
    replayed: Option<&ReplayMark>,
    now: DateTime<Utc>,
) -> serde_json::Value {
    json!({
        "id": entry.id.to_string(),
        "event_type": entry.event_type,
        "event_id": entry.event_id,
        "aggregate_id": entry.aggregate_id,
        "source": {
            "topic": entry.source_topic,
            "partition": entry.source_partition,
            "offset": entry.source_offset,
        },
        "consumer": entry.consumer,
        "error": entry.error,
        "dead_lettered_at": entry.dead_lettered_at,
        "age_seconds": entry.age_seconds(now),
        "replayed": replayed.map(|mark| json!({
            "marker": mark.marker.to_string(),
            "at": mark.at,
            "to": mark.to,
        })),
    })
}

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "?".to_owned(), |v| v.to_string())
}

/// `42s`, `7m05s`, `3h12m`, `2d04h`.
fn age(at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    let Some(at) = at else {
        return "?".to_owned();
    };
    let s = (now - at).num_seconds().max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86400 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{:02}h", s / 86400, s % 86400 / 3600),
    }
}
