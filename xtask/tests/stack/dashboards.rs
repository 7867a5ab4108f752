//! Grafana dashboards: they parse, use the provisioned data sources, and ask only for what the
//! code emits — metric names and labels from the `metrics::` calls, Loki labels from the
//! telemetry, log fields from the `tracing::` spans and events.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use serde_yaml_ng::Value as Yaml;

use crate::queries;
use crate::workspace;

const DASHBOARDS: &str = "observability/grafana/dashboards";

/// Labels Prometheus adds to every scraped series: `job`, `instance`, and the target labels
/// of observability/prometheus.yml.
pub fn scrape_labels() -> BTreeSet<String> {
    let config: Yaml = serde_yaml_ng::from_str(&workspace::read("observability/prometheus.yml"))
        .expect("prometheus.yml is YAML");
    let mut labels: BTreeSet<String> = ["job", "instance"].map(String::from).into();
    for job in config["scrape_configs"]
        .as_sequence()
        .expect("scrape_configs")
    {
        for group in job["static_configs"].as_sequence().expect("static_configs") {
            if let Some(map) = group["labels"].as_mapping() {
                labels.extend(map.keys().filter_map(|k| k.as_str().map(str::to_owned)));
            }
        }
    }
    labels
}

/// The Loki stream labels: what `telemetry::loki_layer` sets with `.label(..)`, plus `level`,
/// which tracing-loki adds to every stream (see libs/kit/tests/kit/loki.rs).
fn loki_labels() -> BTreeSet<String> {
    let telemetry = workspace::read("libs/kit/src/telemetry.rs");
    let mut labels: BTreeSet<String> = telemetry
        .match_indices(".label(\"")
        .filter_map(|(at, needle)| telemetry[at + needle.len()..].split('"').next())
        .map(str::to_owned)
        .collect();
    assert_eq!(
        labels,
        ["env", "service"].map(String::from).into(),
        "Loki labels of the telemetry"
    );
    labels.insert("level".to_owned());
    labels
}

/// The data source uids provisioned for Grafana, by type.
pub fn datasources() -> BTreeMap<String, String> {
    let config: Yaml = serde_yaml_ng::from_str(&workspace::read(
        "observability/grafana/provisioning/datasources/datasources.yml",
    ))
    .expect("datasources.yml is YAML");
    config["datasources"]
        .as_sequence()
        .expect("datasources")
        .iter()
        .map(|ds| {
            let field = |name: &str| ds[name].as_str().expect("a string").to_owned();
            (field("uid"), field("type"))
        })
        .collect()
}

struct Dashboard {
    file: String,
    json: Value,
}

impl Dashboard {
    /// `(panel title, data source type, expression)` of every query of every panel.
    fn queries(&self, datasources: &BTreeMap<String, String>) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        let mut panels: Vec<&Value> = self.json["panels"]
            .as_array()
            .into_iter()
            .flatten()
            .collect();
        while let Some(panel) = panels.pop() {
            panels.extend(panel["panels"].as_array().into_iter().flatten()); // collapsed rows
            let title = panel["title"].as_str().unwrap_or("?").to_owned();
            for target in panel["targets"].as_array().into_iter().flatten() {
                let uid = target["datasource"]["uid"]
                    .as_str()
                    .or_else(|| panel["datasource"]["uid"].as_str())
                    .unwrap_or_else(|| panic!("{}: panel `{title}` has no data source", self.file));
                let kind = datasources.get(uid).unwrap_or_else(|| {
                    panic!(
                        "{}: panel `{title}` uses unknown data source {uid}",
                        self.file
                    )
                });
                let expr = target["expr"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{}: `{title}` has a query without expr", self.file));
                out.push((title.clone(), kind.clone(), expr.to_owned()));
            }
        }
        out
    }

    fn variables(&self) -> BTreeSet<String> {
        self.json["templating"]["list"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v["name"].as_str().map(str::to_owned))
            .collect()
    }
}

fn dashboards() -> Vec<Dashboard> {
    let dir = workspace::root().join(DASHBOARDS);
    let mut out: Vec<Dashboard> = std::fs::read_dir(&dir)
        .expect("the dashboards folder")
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| {
            let file = path
                .file_name()
                .expect("a name")
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&path).expect("readable");
            let json =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file} is not JSON: {e}"));
            Dashboard { file, json }
        })
        .collect();
    out.sort_by(|a, b| a.file.cmp(&b.file));
    assert!(
        out.len() >= 5,
        "expected the order flow, relay, consumers, HTTP and logs dashboards"
    );
    out
}

#[test]
fn every_dashboard_parses_with_a_unique_uid_and_provisioned_data_sources() {
    let datasources = datasources();
    let mut uids = BTreeSet::new();
    for dashboard in dashboards() {
        let uid = dashboard.json["uid"]
            .as_str()
            .unwrap_or_else(|| panic!("{}: no uid", dashboard.file));
        assert!(
            uids.insert(uid.to_owned()),
            "{}: uid {uid} used twice",
            dashboard.file
        );
        assert!(
            dashboard.json["title"]
                .as_str()
                .is_some_and(|t| !t.is_empty()),
            "{}: no title",
            dashboard.file
        );
        let queries = dashboard.queries(&datasources);
        assert!(!queries.is_empty(), "{}: no queries", dashboard.file);
        let declared = dashboard.variables();
        for (title, _, expr) in &queries {
            for (at, _) in expr
                .match_indices('$')
                .filter(|(at, _)| !expr[at + 1..].starts_with("__"))
            {
                let name: String = expr[at + 1..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                assert!(
                    declared.contains(&name),
                    "{}: `{title}` uses ${name}, not a dashboard variable",
                    dashboard.file
                );
            }
        }
    }
}

/// The series Prometheus holds, with their label names: counters and gauges by name;
/// histograms as `_bucket` (+ `le`), `_sum` and `_count`.
pub fn emitted_series() -> BTreeMap<String, BTreeSet<String>> {
    let mut series: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, metric) in workspace::emitted_metrics() {
        if metric.kind == "histogram" {
            let mut bucket = metric.labels.clone();
            bucket.insert("le".to_owned());
            series.insert(format!("{name}_bucket"), bucket);
            series.insert(format!("{name}_sum"), metric.labels.clone());
            series.insert(format!("{name}_count"), metric.labels);
        } else {
            series.insert(name, metric.labels);
        }
    }
    series
}

#[test]
fn metric_queries_use_only_metric_names_and_labels_the_code_emits() {
    let emitted = workspace::emitted_metrics();
    let series = emitted_series();
    let scrape = scrape_labels();
    let datasources = datasources();
    let mut shown = BTreeSet::new();
    for dashboard in dashboards() {
        for (title, kind, expr) in dashboard.queries(&datasources) {
            if kind != "prometheus" {
                continue;
            }
            let refs = queries::promql(&expr);
            assert!(
                !refs.metrics.is_empty(),
                "{}: `{title}` queries no metric: {expr}",
                dashboard.file
            );
            let mut allowed = scrape.clone();
            for metric in &refs.metrics {
                let labels = series.get(metric).unwrap_or_else(|| {
                    panic!(
                        "{}: `{title}` uses {metric}, which the code never records (known: {:?})",
                        dashboard.file,
                        series.keys()
                    )
                });
                allowed.extend(labels.iter().cloned());
                shown.insert(metric.trim_end_matches("_bucket").to_owned());
            }
            let unknown: Vec<_> = refs.labels.difference(&allowed).collect();
            assert!(
                unknown.is_empty(),
                "{}: `{title}` uses labels {unknown:?} that {:?} do not carry: {expr}",
                dashboard.file,
                refs.metrics
            );
        }
    }
    // The metrics of README "Observability" all have a panel.
    for metric in [
        "http_requests_total",
        "http_request_duration_seconds",
        "outbox_relay_backlog",
        "outbox_relay_oldest_unpublished_age_seconds",
        "outbox_relay_published_total",
        "outbox_relay_publish_latency_seconds",
        "outbox_relay_leader",
        "inbox_messages_total",
        "inbox_dead_lettered_total",
    ] {
        assert!(
            emitted.contains_key(metric),
            "the code no longer records {metric}"
        );
        assert!(shown.contains(metric), "no dashboard shows {metric}");
    }
}

#[test]
fn log_queries_use_only_the_loki_labels_and_the_fields_services_log() {
    let labels = loki_labels();
    let fields = workspace::logged_fields();
    for expected in [
        "correlation_id",
        "event_type",
        "event_id",
        "order_id",
        "route",
        "status",
    ] {
        assert!(
            fields.contains(expected),
            "the code no longer logs `{expected}` (found {fields:?})"
        );
    }
    let datasources = datasources();
    let mut by_correlation_id = false;
    for dashboard in dashboards() {
        for (title, kind, expr) in dashboard.queries(&datasources) {
            if kind != "loki" {
                continue;
            }
            let refs = queries::logql(&expr);
            assert!(
                !refs.stream_labels.is_empty(),
                "{}: `{title}` has no stream selector",
                dashboard.file
            );
            let unknown: Vec<_> = refs.stream_labels.difference(&labels).collect();
            assert!(
                unknown.is_empty(),
                "{}: `{title}` selects streams by {unknown:?}; Loki labels are only {labels:?}",
                dashboard.file
            );
            for field in &refs.fields {
                assert!(
                    labels.contains(field) || fields.contains(field),
                    "{}: `{title}` filters on `{field}`, which no span or event logs",
                    dashboard.file
                );
            }
            by_correlation_id |=
                expr.contains("| json") && expr.contains(r#"correlation_id="$correlation_id""#);
        }
    }
    assert!(
        by_correlation_id,
        "a dashboard finds log lines by the $correlation_id variable"
    );
}
