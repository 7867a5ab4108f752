//! Private by default: the stack publishes only what a user opens in a browser or calls, on
//! the loopback interface, with no tool that writes and no password anyone can guess.

use std::collections::BTreeMap;

use crate::compose::{compose, docker_compose_config, environment, scalar, services, strings};
use crate::workspace;

#[test]
fn only_the_gateway_grafana_kafka_ui_and_the_sandbox_checkout_are_published_and_only_on_loopback() {
    let compose = compose();
    let published: BTreeMap<String, Vec<String>> = services(&compose)
        .iter()
        .map(|(name, service)| (scalar(name), strings(&service["ports"])))
        .filter(|(_, ports)| !ports.is_empty())
        .collect();
    let expected: BTreeMap<String, Vec<String>> = [
        ("gateway", "127.0.0.1:8080:8080"),
        ("grafana", "127.0.0.1:3000:3000"),
        ("kafka-ui", "127.0.0.1:7070:8080"),
        // The sandbox's checkout pages, which a customer's browser opens.
        ("sandbox-provider", "127.0.0.1:5030:5030"),
    ]
    .into_iter()
    .map(|(name, port)| (name.to_owned(), vec![port.to_owned()]))
    .collect();
    assert_eq!(
        published, expected,
        "services, Postgres, Kafka, Loki and Prometheus stay on the Compose network"
    );
}

#[test]
fn kafka_ui_is_read_only() {
    let compose = compose();
    let env = environment(&services(&compose)["kafka-ui"]);
    assert_eq!(
        env.get("KAFKA_CLUSTERS_0_READONLY").map(String::as_str),
        Some("true"),
        "Kafka UI has no login: it must not produce, delete or reset offsets"
    );
    assert!(
        !env.contains_key("DYNAMIC_CONFIG_ENABLED"),
        "dynamic config lets anyone who reaches the UI reconfigure it"
    );
}

#[test]
fn grafanas_admin_password_comes_from_env_with_no_working_default() {
    let compose = compose();
    let env = environment(&services(&compose)["grafana"]);
    let password = &env["GF_SECURITY_ADMIN_PASSWORD"];
    assert!(
        password.starts_with("${GRAFANA_ADMIN_PASSWORD:?"),
        "a required variable, no `:-default`: {password}"
    );
    let example = workspace::read(".env.example");
    assert!(
        example
            .lines()
            .any(|line| line == "GRAFANA_ADMIN_PASSWORD="),
        ".env.example leaves the Grafana password for the user to choose"
    );
    // Compose itself refuses to start without one, every other password set: without it,
    // or with the example's empty one.
    let others = crate::compose::test_env_without(&["GRAFANA_ADMIN_PASSWORD"]);
    for env_file in [others.clone(), format!("{others}GRAFANA_ADMIN_PASSWORD=\n")] {
        let (ok, stderr) = docker_compose_config(&env_file);
        assert!(
            !ok && stderr.contains("set GRAFANA_ADMIN_PASSWORD in .env"),
            "docker-compose must refuse the file while GRAFANA_ADMIN_PASSWORD is unset \
             (accepted: {ok}):\n{stderr}"
        );
    }
}
