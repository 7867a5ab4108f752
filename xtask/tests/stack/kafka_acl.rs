//! Compose's Kafka signs every client in and lets each do only what the trust model of
//! docs/events.md allows: one SCRAM user per service, producing only its own topics.

use std::collections::{BTreeMap, BTreeSet};

use crate::compose::{compose, environment, required_variables, services};
use crate::workspace;

/// `(principal, operation, resource)` of docker/kafka/acls.tsv, `topic:@catalogue`
/// expanded to every catalogued topic.
fn grants() -> BTreeSet<(String, String, String)> {
    let catalogue = workspace::catalogued_topics();
    let mut grants = BTreeSet::new();
    for line in workspace::read("docker/kafka/acls.tsv").lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields.len(), 3, "acls.tsv: `{line}`");
        let (principal, operation) = (fields[0].to_owned(), fields[1].to_owned());
        if fields[2] == "topic:@catalogue" {
            for topic in &catalogue {
                grants.insert((
                    principal.clone(),
                    operation.clone(),
                    format!("topic:{topic}"),
                ));
            }
        } else {
            grants.insert((principal, operation, fields[2].to_owned()));
        }
    }
    grants
}

/// Topics `principal` may use with `operation`.
fn topics_of(
    grants: &BTreeSet<(String, String, String)>,
    principal: &str,
    operation: &str,
) -> BTreeSet<String> {
    grants
        .iter()
        .filter(|(p, o, _)| p == principal && o == operation)
        .filter_map(|(_, _, resource)| resource.strip_prefix("topic:").map(str::to_owned))
        .collect()
}

/// The trust table of docs/events.md: for each service, the topics it may produce and
/// those it reads, abbreviations (`.succeeded` after `payment.created`, `inventory.stock.*`)
/// expanded against the catalogue.
fn trust_table() -> BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> {
    let catalogue = workspace::catalogued_topics();
    let doc = workspace::read("docs/events.md");
    let section = doc
        .split_once("## Trust model of the bus")
        .expect("docs/events.md has a trust model")
        .1;
    let expand = |cell: &str| -> BTreeSet<String> {
        let mut topics = BTreeSet::new();
        let mut last_full = String::new();
        for name in cell.split('`').skip(1).step_by(2) {
            let full = if let Some(rest) = name.strip_prefix('.') {
                let stem = last_full.rsplit_once('.').map_or("", |(stem, _)| stem);
                format!("{stem}.{rest}")
            } else {
                name.to_owned()
            };
            if let Some(prefix) = full.strip_suffix('*') {
                topics.extend(catalogue.iter().filter(|t| t.starts_with(prefix)).cloned());
            } else {
                assert!(
                    catalogue.contains(&full),
                    "trust table names unknown topic {full}"
                );
                topics.insert(full.clone());
            }
            last_full = full;
        }
        topics
    };
    let mut table = BTreeMap::new();
    for row in section.lines().filter(|line| line.starts_with("| ")) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let who = cells[1];
        if !who.ends_with("-service") {
            continue;
        }
        table.insert(who.to_owned(), (expand(cells[2]), expand(cells[3])));
    }
    assert!(
        table.len() >= 5,
        "the five services in the trust table: {table:?}"
    );
    table
}

#[test]
fn each_service_may_write_exactly_its_own_topics_and_the_dlq_and_read_exactly_what_it_consumes() {
    let grants = grants();
    let dlq = "failed.send.event.dlq".to_owned();
    for (service, (produces, reads)) in trust_table() {
        let mut may_write = produces.clone();
        may_write.insert(dlq.clone()); // every inbox dead-letters itself
        assert_eq!(
            topics_of(&grants, &service, "Write"),
            may_write,
            "{service}: Write"
        );
        assert_eq!(
            topics_of(&grants, &service, "Read"),
            reads,
            "{service}: Read"
        );
        let groups: BTreeSet<&str> = grants
            .iter()
            .filter(|(p, o, _)| *p == service && o == "Read")
            .filter_map(|(_, _, r)| r.strip_prefix("group:"))
            .collect();
        assert_eq!(
            groups,
            BTreeSet::from([service.as_str()]),
            "{service}: its own group only"
        );
    }
}

#[test]
fn only_services_and_operators_may_write_and_nobody_else_holds_a_right_to_change_anything() {
    let grants = grants();
    let services: BTreeSet<String> = trust_table().into_keys().collect();
    for (principal, operation, resource) in &grants {
        match operation.as_str() {
            "Write" => assert!(
                services.contains(principal) || principal == "operator",
                "{principal} may write {resource}"
            ),
            // Read and describe, or creating topics that exist (see acls.tsv).
            "Read" | "Describe" | "DescribeConfigs" | "Create" => {}
            other => panic!("{principal}: {other} on {resource} is not part of the trust model"),
        }
    }
    assert!(
        topics_of(&grants, "outbox-relay", "Write").is_empty(),
        "the relay writes as each service"
    );
    assert!(topics_of(&grants, "kafka-ui", "Write").is_empty());
}

#[test]
fn every_kafka_client_signs_in_with_scram_as_its_own_user_with_a_password_from_env() {
    let compose = compose();
    let services = services(&compose);
    let required = required_variables();
    let check = |who: &str, env: &BTreeMap<String, String>, prefix: &str, user: &str| {
        if !prefix.contains("SOURCES") {
            assert_eq!(
                env.get(&format!("{prefix}SECURITY_PROTOCOL"))
                    .map(String::as_str),
                Some("SASL_PLAINTEXT"),
                "{who}"
            );
            assert_eq!(
                env.get(&format!("{prefix}SASL_MECHANISM"))
                    .map(String::as_str),
                Some("SCRAM-SHA-512"),
                "{who}"
            );
        }
        assert_eq!(
            env.get(&format!("{prefix}SASL_USERNAME"))
                .map(String::as_str),
            Some(user),
            "{who}"
        );
        let variable = format!("KAFKA_{}_PASSWORD", user.to_uppercase().replace('-', "_"));
        let password = &env[&format!("{prefix}SASL_PASSWORD")];
        assert!(
            password.starts_with(&format!("${{{variable}:?")),
            "{who}: {password}"
        );
        assert!(required.contains(&variable));
    };
    let principals: BTreeSet<String> = grants().into_iter().map(|(p, _, _)| p).collect();
    for service in trust_table().into_keys() {
        let env = environment(&services[service.as_str()]);
        check(&service, &env, "COMANDA__KAFKA__", &service);
        assert!(principals.contains(&service));
        // The relay publishes this service's outbox as this service.
        let source = service.trim_end_matches("-service").to_uppercase();
        let relay = environment(&services["outbox-relay"]);
        check(
            "outbox-relay",
            &relay,
            &format!("COMANDA__SOURCES__{source}__"),
            &service,
        );
    }
    let relay = environment(&services["outbox-relay"]);
    check("outbox-relay", &relay, "COMANDA__KAFKA__", "outbox-relay");
    // kafka-init creates a user for every principal, with the password .env gives it,
    // and .env.example gives none.
    let init = environment(&services["kafka-init"]);
    let example = workspace::read(".env.example");
    for principal in principals {
        let variable = format!(
            "KAFKA_{}_PASSWORD",
            principal.to_uppercase().replace('-', "_")
        );
        assert!(
            init.get(&variable)
                .is_some_and(|v| v.starts_with(&format!("${{{variable}:?"))),
            "kafka-init: {variable}"
        );
        assert!(
            example.lines().any(|line| line == format!("{variable}=")),
            ".env.example: {variable}="
        );
    }
    let ui = environment(&services["kafka-ui"]);
    assert_eq!(
        ui["KAFKA_CLUSTERS_0_PROPERTIES_SECURITY_PROTOCOL"],
        "SASL_PLAINTEXT"
    );
    assert!(ui["KAFKA_CLUSTERS_0_PROPERTIES_SASL_JAAS_CONFIG"].contains("username=\"kafka-ui\""));
}

#[test]
fn kafka_refuses_what_no_acl_allows_and_takes_only_scram_from_outside_its_container() {
    let compose = compose();
    let env = environment(&services(&compose)["kafka"]);
    assert_eq!(env["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"], "false");
    assert!(env["KAFKA_AUTHORIZER_CLASS_NAME"].ends_with("StandardAuthorizer"));
    assert_eq!(env["KAFKA_SASL_ENABLED_MECHANISMS"], "SCRAM-SHA-512");
    let protocols: BTreeMap<&str, &str> = env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"]
        .split(',')
        .filter_map(|pair| pair.split_once(':'))
        .collect();
    for listener in env["KAFKA_LISTENERS"].split(',') {
        let (name, address) = listener.split_once("://").expect("NAME://host:port");
        if protocols[name] == "PLAINTEXT" {
            // The super user ANONYMOUS exists here: only the container's own loopback.
            assert!(
                address.starts_with("127.0.0.1:"),
                "{listener} is PLAINTEXT beyond loopback"
            );
        } else {
            assert_eq!(protocols[name], "SASL_PLAINTEXT", "{listener}");
        }
    }
    assert_eq!(env["KAFKA_SUPER_USERS"], "User:ANONYMOUS");
    let init = &services(&compose)["kafka-init"];
    assert_eq!(
        crate::compose::scalar(&init["network_mode"]),
        "service:kafka"
    );
}
