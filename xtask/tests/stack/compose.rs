//! docker-compose.yml: valid for the Compose tool, and in step with the workspace.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_yaml_ng::{Mapping, Value};

use crate::workspace::{self, Binary};

/// The parsed docker-compose.yml.
pub fn compose() -> Value {
    serde_yaml_ng::from_str(&workspace::read("docker-compose.yml"))
        .expect("docker-compose.yml is YAML")
}

pub fn services(compose: &Value) -> &Mapping {
    compose["services"]
        .as_mapping()
        .expect("a `services` mapping")
}

/// A scalar as Compose reads it (numbers and booleans become their text).
pub fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => panic!("not a scalar: {other:?}"),
    }
}

/// A service's `environment` mapping.
pub fn environment(service: &Value) -> BTreeMap<String, String> {
    match &service["environment"] {
        Value::Null => BTreeMap::new(),
        Value::Mapping(map) => map.iter().map(|(k, v)| (scalar(k), scalar(v))).collect(),
        other => panic!("environment must be a mapping, got {other:?}"),
    }
}

/// Strings of a list-valued key (`ports`, `volumes`, a healthcheck `test`).
pub fn strings(value: &Value) -> Vec<String> {
    value
        .as_sequence()
        .map_or_else(Vec::new, |items| items.iter().map(scalar).collect())
}

/// `${NAME:-default}` with its default; Compose's interpolation, for the values checked here.
fn interpolate_defaults(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').expect("closed ${") + start;
        let inner = &rest[start + 2..end];
        out.push_str(inner.split_once(":-").map_or("", |(_, default)| default));
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The variables that have no default (`${NAME:?message}`): Compose refuses to start
/// until `.env` sets each.
pub fn required_variables() -> std::collections::BTreeSet<String> {
    variables()
        .into_iter()
        .filter(|(_, rest)| rest.starts_with(":?"))
        .map(|(name, _)| name)
        .collect()
}

/// A value for every variable that has no default, as a user's `.env` sets them, except
/// those named in `leave_out`.
pub fn test_env_without(leave_out: &[&str]) -> String {
    required_variables()
        .into_iter()
        .filter(|name| !leave_out.contains(&name.as_str()))
        .map(|name| format!("{name}=not-a-real-password\n"))
        .collect()
}

/// `docker-compose config -q` of the file with `env_file` as its env file (and nothing from
/// the caller's environment or a developer's `.env`): success, and what it printed.
pub fn docker_compose_config(env_file: &str) -> (bool, String) {
    let installed = Command::new("docker-compose")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    assert!(
        installed,
        "the Compose tool `docker-compose` is not installed, so docker-compose.yml cannot be \
         validated. Install it with `apt-get install -y --no-install-recommends docker-compose` \
         (`cargo xtask test` does so itself when run as root)."
    );
    let root = workspace::root();
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "comanda-stack-{}-{}.env",
        std::process::id(),
        CALLS.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, env_file).expect("writing the env file");
    let mut command = Command::new("docker-compose");
    for (name, _) in variables() {
        command.env_remove(name);
    }
    let output = command
        .current_dir(&root)
        .args([
            "--project-directory",
            ".",
            "-f",
            "docker-compose.yml",
            "--env-file",
        ])
        .arg(&path)
        .args(["config", "-q"])
        .output()
        .expect("docker-compose runs");
    let _ = std::fs::remove_file(&path);
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Every `${NAME..}` the file interpolates, with what follows the name (`:-default`,
/// `:?message` or nothing).
pub fn variables() -> Vec<(String, String)> {
    let text = workspace::read("docker-compose.yml");
    text.match_indices("${")
        .map(|(start, _)| {
            let inner = &text[start + 2..start + text[start..].find('}').expect("closed ${")];
            let end = inner
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(inner.len());
            (inner[..end].to_owned(), inner[end..].to_owned())
        })
        .collect()
}

#[test]
fn docker_compose_accepts_the_compose_file_once_the_grafana_password_is_set() {
    let (ok, stderr) = docker_compose_config(&test_env_without(&[]));
    assert!(
        ok,
        "`docker-compose config -q` rejected docker-compose.yml:\n{stderr}"
    );
}

#[test]
fn docker_compose_accepts_the_example_env_file_once_its_empty_passwords_are_filled_in() {
    let mut example = workspace::read(".env.example");
    for name in required_variables() {
        example = example.replace(
            &format!("\n{name}=\n"),
            &format!("\n{name}=chosen-by-the-user\n"),
        );
    }
    assert!(example.contains("=chosen-by-the-user"));
    let (ok, stderr) = docker_compose_config(&example);
    assert!(ok, "rejected with .env.example:\n{stderr}");
}

#[test]
fn every_binary_crate_has_a_service_built_from_the_root_dockerfile() {
    let compose = compose();
    let services = services(&compose);
    for Binary { name, .. } in workspace::binaries() {
        let service = services
            .get(name.as_str())
            .unwrap_or_else(|| panic!("docker-compose.yml has no service `{name}`"));
        assert_eq!(
            scalar(&service["build"]["context"]),
            ".",
            "{name}: build context"
        );
        assert_eq!(
            scalar(&service["build"]["args"]["BIN"]),
            name,
            "{name}: build arg BIN"
        );
        assert_eq!(
            scalar(&service["build"]["target"]),
            "runtime",
            "{name}: builds the Dockerfile's per-binary stage, which only copies its binary"
        );
        let env = environment(service);
        assert_eq!(
            env.get("COMANDA__HTTP__HOST").map(String::as_str),
            Some("0.0.0.0"),
            "{name}: a container must listen on every interface"
        );
        assert_eq!(
            env.get("LOKI_URL").map(String::as_str),
            Some("http://loki:3100"),
            "{name}: logs go to Loki"
        );
    }
}

#[test]
fn listener_ports_match_each_crates_defaults_and_the_readme() {
    let compose = compose();
    let readme = workspace::read("README.md");
    for binary in workspace::binaries() {
        let (name, port) = (&binary.name, binary.port());
        let service = &services(&compose)[name.as_str()];
        assert_eq!(
            environment(service).get("COMANDA__HTTP__PORT"),
            Some(&port.to_string()),
            "{name}: COMANDA__HTTP__PORT"
        );
        let probe = strings(&service["healthcheck"]["test"]).join(" ");
        assert!(
            probe.contains(&format!("127.0.0.1:{port}/")),
            "{name}: healthcheck `{probe}` must probe port {port}"
        );
        assert!(
            readme.contains(&format!("| `{name}` | {port} |")),
            "README's port table has no row `| `{name}` | {port} |`"
        );
    }
}

/// Settings read by serde defaults rather than listed in `config/default.toml`; `*` is any
/// name (the relay's sources are a table keyed by source name).
const KEYS_WITHOUT_DEFAULTS: &[(&str, &str)] = &[
    ("*", "kafka.topic_prefix"),
    ("*", "kafka.ready_check"),
    ("*", "auth.public_key_pem"),
    ("*", "auth.issuer"),
    ("*", "auth.audience"),
    ("*", "kafka.security_protocol"),
    ("*", "kafka.sasl_mechanism"),
    ("*", "kafka.sasl_username"),
    ("*", "kafka.sasl_password"),
    ("outbox-relay", "sources.*.sasl_username"),
    ("outbox-relay", "sources.*.sasl_password"),
    ("auth-service", "auth.private_key_pem"),
    ("outbox-relay", "relay.instance"),
    ("outbox-relay", "sources.*.url"),
];

fn is_known_key(binary: &Binary, known: &BTreeSet<String>, key: &str) -> bool {
    known.contains(key)
        || KEYS_WITHOUT_DEFAULTS.iter().any(|(crate_name, pattern)| {
            (*crate_name == "*" || *crate_name == binary.name)
                && pattern.split('.').count() == key.split('.').count()
                && pattern
                    .split('.')
                    .zip(key.split('.'))
                    .all(|(p, k)| p == "*" || p == k)
        })
}

#[test]
fn every_comanda_variable_in_compose_names_a_real_settings_key() {
    let compose = compose();
    for binary in workspace::binaries() {
        let known = workspace::leaf_paths(&binary.defaults);
        for variable in environment(&services(&compose)[binary.name.as_str()]).keys() {
            let Some(rest) = variable.strip_prefix("COMANDA__") else {
                assert!(
                    ["LOKI_URL", "RUST_LOG"].contains(&variable.as_str()),
                    "{}: unexpected variable {variable}",
                    binary.name
                );
                continue;
            };
            // The config crate's `__` separator, keys lower-cased.
            let key = rest
                .split("__")
                .collect::<Vec<_>>()
                .join(".")
                .to_lowercase();
            assert!(
                is_known_key(&binary, &known, &key),
                "{}: {variable} sets `{key}`, which is not a setting of {}/config/default.toml",
                binary.name,
                binary.name
            );
        }
    }
}

#[test]
fn services_reach_each_other_by_compose_name_and_port() {
    let compose = compose();
    let services = services(&compose);
    let binaries = workspace::binaries();
    let port_of = |name: &str| {
        binaries
            .iter()
            .find(|b| b.name == name)
            .map(Binary::port)
            .expect("a binary")
    };
    let gateway = environment(&services["gateway"]);
    let relay = environment(&services["outbox-relay"]);
    for upstream in ["auth", "user", "order", "product", "payment"] {
        let service = format!("{upstream}-service");
        let variable = format!("COMANDA__UPSTREAMS__{}__URLS", upstream.to_uppercase());
        assert_eq!(
            gateway.get(&variable),
            Some(&format!("http://{service}:{}", port_of(&service))),
            "gateway: {variable}"
        );
        let database = format!("comanda_{upstream}");
        let own = interpolate_defaults(
            &environment(&services[service.as_str()])["COMANDA__DATABASE__URL"],
        );
        assert!(
            own.ends_with(&format!("@postgres:5432/{database}")),
            "{service}: database URL {own}"
        );
        let source = format!("COMANDA__SOURCES__{}__URL", upstream.to_uppercase());
        assert_eq!(
            relay.get(&source).map(|url| interpolate_defaults(url)),
            Some(own),
            "relay: {source} reads {service}'s database"
        );
    }
    let created: BTreeSet<String> = workspace::read("docker/postgres/init.sql")
        .lines()
        .filter_map(|line| line.strip_prefix("CREATE DATABASE ")?.strip_suffix(';'))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        created,
        [
            "comanda_auth",
            "comanda_user",
            "comanda_order",
            "comanda_product",
            "comanda_payment"
        ]
        .map(String::from)
        .into()
    );
}

#[test]
fn kafka_init_creates_exactly_the_catalogued_topics() {
    let compose = compose();
    let init = environment(&services(&compose)["kafka-init"]);
    let topics: BTreeSet<String> = init["TOPICS"]
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        topics,
        workspace::catalogued_topics(),
        "kafka-init TOPICS vs libs/outbox/src/topics.rs ALL"
    );
    assert_eq!(init["TOPIC_PARTITIONS"], workspace::catalogued_partitions());
    assert_eq!(
        strings(&services(&compose)["kafka-init"]["entrypoint"]),
        ["/bin/bash", "/etc/comanda/kafka/init.sh"]
    );
    let script = workspace::read("docker/kafka/init.sh");
    assert!(
        script.contains("for topic in $TOPICS")
            && script.contains("--partitions \"$TOPIC_PARTITIONS\"")
    );
}

#[test]
fn every_dependency_waited_on_can_report_that_state() {
    let compose = compose();
    let services = services(&compose);
    for (name, service) in services {
        let Some(depends_on) = service["depends_on"].as_mapping() else {
            continue;
        };
        for (target, condition) in depends_on {
            let target_service = services
                .get(target)
                .unwrap_or_else(|| panic!("{name:?} depends on unknown {target:?}"));
            match scalar(&condition["condition"]).as_str() {
                "service_healthy" => assert!(
                    !target_service["healthcheck"].is_null(),
                    "{name:?} waits for {target:?} to be healthy, which has no healthcheck"
                ),
                "service_completed_successfully" => assert_eq!(
                    scalar(&target_service["restart"]),
                    "no",
                    "{target:?} is a one-shot job"
                ),
                other => panic!("{name:?} → {target:?}: unexpected condition {other}"),
            }
        }
    }
    for binary in workspace::binaries() {
        assert!(
            services[binary.name.as_str()]["depends_on"].is_mapping(),
            "{} starts without waiting for its dependencies",
            binary.name
        );
    }
}

#[test]
fn stateful_services_keep_their_data_in_named_volumes() {
    let compose = compose();
    let declared: BTreeSet<String> = compose["volumes"]
        .as_mapping()
        .expect("top-level volumes")
        .keys()
        .map(scalar)
        .collect();
    for (service, path) in [
        ("postgres", "/var/lib/postgresql/data"),
        ("kafka", "/var/lib/kafka/data"),
        ("loki", "/loki"),
        ("prometheus", "/prometheus"),
        ("grafana", "/var/lib/grafana"),
    ] {
        let mounts = strings(&services(&compose)[service]["volumes"]);
        let volume = mounts
            .iter()
            .find_map(|mount| mount.strip_suffix(&format!(":{path}")))
            .unwrap_or_else(|| panic!("{service}: nothing mounted on {path}"));
        assert!(
            declared.contains(volume),
            "{service}: {volume} is not a named volume"
        );
    }
}

#[test]
fn the_example_env_file_lists_every_variable_compose_reads_with_its_default() {
    let example_file = workspace::read(".env.example");
    let example: BTreeMap<&str, &str> = example_file
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .collect();
    for (name, rest) in variables() {
        // `:?message`: no default at all; the example leaves it empty for the user to fill.
        let default = rest.strip_prefix(":-").unwrap_or("");
        assert_eq!(
            example.get(name.as_str()),
            Some(&default),
            ".env.example must set {name}={default} (the compose default)"
        );
    }
}

#[test]
fn prometheus_scrapes_every_process() {
    let config: Value = serde_yaml_ng::from_str(&workspace::read("observability/prometheus.yml"))
        .expect("prometheus.yml is YAML");
    let mut scraped = BTreeMap::new();
    for job in config["scrape_configs"]
        .as_sequence()
        .expect("scrape_configs")
    {
        assert_eq!(scalar(&job["metrics_path"]), "/metrics");
        for group in job["static_configs"].as_sequence().expect("static_configs") {
            for target in strings(&group["targets"]) {
                scraped.insert(target, scalar(&group["labels"]["service"]));
            }
        }
    }
    let expected: BTreeMap<String, String> = workspace::binaries()
        .iter()
        .map(|b| (format!("{}:{}", b.name, b.port()), b.name.clone()))
        .collect();
    assert_eq!(
        scraped, expected,
        "scrape targets (and their `service` label)"
    );
}
