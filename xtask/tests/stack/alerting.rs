//! Grafana's provisioning folders (every one it reads exists, so it starts without errors),
//! the alert rules on stalls and dead letters, and Loki's retention.

use std::collections::BTreeSet;

use serde_yaml_ng::Value;

use crate::compose::{compose, scalar, services, strings};
use crate::dashboards::{datasources, emitted_series, scrape_labels};
use crate::queries;
use crate::workspace;

const PROVISIONING: &str = "observability/grafana/provisioning";

fn yaml(relative: &str) -> Value {
    serde_yaml_ng::from_str(&workspace::read(relative))
        .unwrap_or_else(|e| panic!("{relative} is not YAML: {e}"))
}

/// The YAML files of one provisioning folder, parsed.
fn folder(name: &str) -> Vec<(String, Value)> {
    let dir = workspace::root().join(PROVISIONING).join(name);
    let mut files: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{PROVISIONING}/{name}: {e}"))
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "yml" || ext == "yaml")
        })
        .map(|path| {
            let relative = format!(
                "{PROVISIONING}/{name}/{}",
                path.file_name().expect("a name").to_string_lossy()
            );
            let parsed = yaml(&relative);
            (relative, parsed)
        })
        .collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files
}

#[test]
fn every_folder_grafana_provisions_from_exists_with_a_versioned_file() {
    // Grafana 11 reads these four at start and logs an error for each one missing.
    for name in ["datasources", "dashboards", "plugins", "alerting"] {
        let files = folder(name);
        assert!(!files.is_empty(), "{PROVISIONING}/{name} has no YAML file");
        for (file, parsed) in files {
            assert_eq!(scalar(&parsed["apiVersion"]), "1", "{file}: apiVersion");
        }
    }
    let compose = compose();
    let mounts = strings(&services(&compose)["grafana"]["volumes"]);
    assert!(
        mounts
            .iter()
            .any(|m| m.starts_with(&format!("./{PROVISIONING}:/etc/grafana/provisioning:"))),
        "Grafana mounts the provisioning folder: {mounts:?}"
    );
}

/// `(file, rule)` of every provisioned alert rule.
fn rules() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (file, parsed) in folder("alerting") {
        for group in parsed["groups"].as_sequence().into_iter().flatten() {
            for rule in group["rules"].as_sequence().into_iter().flatten() {
                out.push((file.clone(), rule.clone()));
            }
        }
    }
    out
}

#[test]
fn alert_rules_watch_stalled_consumers_late_deadlines_and_dead_letters() {
    let series = emitted_series();
    let datasources = datasources();
    let scrape = scrape_labels();
    let mut uids = BTreeSet::new();
    let mut watched = BTreeSet::new();
    for (file, rule) in rules() {
        let uid = scalar(&rule["uid"]);
        let title = scalar(&rule["title"]);
        assert!(uids.insert(uid.clone()), "{file}: duplicate rule uid {uid}");
        let data = rule["data"].as_sequence().expect("data");
        let ref_ids: BTreeSet<String> = data.iter().map(|q| scalar(&q["refId"])).collect();
        assert!(
            ref_ids.contains(&scalar(&rule["condition"])),
            "{file}: `{title}`: condition names no query"
        );
        for query in data {
            let source = scalar(&query["datasourceUid"]);
            if source == "__expr__" {
                let input = scalar(&query["model"]["expression"]);
                assert!(ref_ids.contains(&input), "{file}: `{title}` reads {input}");
                continue;
            }
            assert_eq!(
                datasources.get(&source).map(String::as_str),
                Some("prometheus"),
                "{file}: `{title}` queries a data source that is not the provisioned Prometheus"
            );
            let expr = scalar(&query["model"]["expr"]);
            let refs = queries::promql(&expr);
            assert!(!refs.metrics.is_empty(), "{file}: `{title}`: {expr}");
            let mut allowed = scrape.clone();
            for metric in &refs.metrics {
                let labels = series.get(metric).unwrap_or_else(|| {
                    panic!("{file}: `{title}` uses {metric}, which the code never records")
                });
                allowed.extend(labels.iter().cloned());
                watched.insert(metric.clone());
            }
            let unknown: Vec<_> = refs.labels.difference(&allowed).collect();
            assert!(
                unknown.is_empty(),
                "{file}: `{title}` uses labels {unknown:?} its metrics do not carry: {expr}"
            );
        }
        // Grafana expands `$NAME` in provisioning files from its environment: a template's
        // `$labels` must be written `$$labels` or it arrives empty.
        for (_, text) in rule["annotations"].as_mapping().expect("annotations") {
            let text = scalar(text);
            assert!(
                !text.replace("$$", "").contains('$'),
                "{file}: `{title}`: a bare `$` in `{text}` is an environment variable to Grafana"
            );
        }
        assert_eq!(scalar(&rule["noDataState"]), "OK", "{file}: `{title}`");
    }
    for metric in [
        "inbox_stall_seconds",
        "saga_deadlines_overdue_seconds",
        "saga_deadlines_failing",
        "dlq_entries",
        "dlq_oldest_entry_age_seconds",
    ] {
        assert!(watched.contains(metric), "no alert rule watches {metric}");
    }
}

#[test]
fn loki_deletes_logs_after_a_retention_period() {
    let compose = compose();
    let loki = &services(&compose)["loki"];
    let command = strings(&loki["command"]);
    let config_path = command
        .iter()
        .find_map(|arg| arg.strip_prefix("-config.file="))
        .expect("loki runs with -config.file=");
    let mounted = strings(&loki["volumes"])
        .into_iter()
        .find_map(|mount| {
            let (source, rest) = mount.split_once(':')?;
            (rest.split(':').next()? == config_path)
                .then(|| source.trim_start_matches("./").to_owned())
        })
        .unwrap_or_else(|| panic!("{config_path} is not mounted from the repository"));
    let config = yaml(&mounted);
    assert_eq!(
        config["compactor"]["retention_enabled"],
        Value::Bool(true),
        "{mounted}"
    );
    assert!(
        !scalar(&config["compactor"]["delete_request_store"]).is_empty(),
        "{mounted}: retention needs compactor.delete_request_store"
    );
    let period = scalar(&config["limits_config"]["retention_period"]);
    let hours: u32 = period
        .strip_suffix('h')
        .and_then(|h| h.parse().ok())
        .unwrap_or_else(|| panic!("{mounted}: retention_period {period} (write it in hours)"));
    assert!(
        (24..=24 * 90).contains(&hours),
        "{mounted}: retention of {hours} h"
    );
    for schema in config["schema_config"]["configs"]
        .as_sequence()
        .expect("schemas")
    {
        assert_eq!(
            scalar(&schema["index"]["period"]),
            "24h",
            "{mounted}: retention needs a 24 h index period"
        );
    }
    // The image's own storage paths, so an existing loki-data volume stays readable.
    assert_eq!(scalar(&config["common"]["path_prefix"]), "/loki");
}
