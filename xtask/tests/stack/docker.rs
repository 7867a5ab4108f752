//! The Docker path as users meet it: one build for every image, pinned and maintained images
//! whose health checks run with the tools those images have, SELinux-safe bind mounts, a
//! Kafka the host can reach without IPv6 noise, and a `.env.example` that tells the truth.

use std::collections::BTreeSet;

use crate::compose::{compose, environment, scalar, services, strings};
use crate::workspace;

/// The Dockerfile's stages: `(name, text from its FROM up to the next FROM)`.
fn stages(dockerfile: &str) -> Vec<(String, String)> {
    let starts: Vec<usize> = dockerfile
        .match_indices("\nFROM ")
        .map(|(at, _)| at + 1)
        .collect();
    starts
        .iter()
        .enumerate()
        .map(|(i, &start)| {
            let end = starts.get(i + 1).copied().unwrap_or(dockerfile.len());
            let text = &dockerfile[start..end];
            let first = text.lines().next().expect("a FROM line");
            let name = first
                .split_once(" AS ")
                .map(|(_, name)| name.trim().to_owned())
                .unwrap_or_else(|| panic!("Dockerfile: unnamed stage `{first}`"));
            (name, text.to_owned())
        })
        .collect()
}

/// Non-comment instruction lines, with `\` continuations joined.
fn instructions(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                out.push(std::mem::take(&mut current));
            }
        }
    }
    out
}

#[test]
fn one_cargo_build_compiles_every_binary_and_each_image_only_copies_its_own() {
    let dockerfile = workspace::read("Dockerfile");
    let binaries: BTreeSet<String> = workspace::binaries().into_iter().map(|b| b.name).collect();
    let builds: Vec<String> = instructions(&dockerfile)
        .into_iter()
        .filter(|line| line.contains("cargo build"))
        .collect();
    assert_eq!(builds.len(), 1, "one cargo build in all: {builds:#?}");
    let build = &builds[0];
    assert!(
        build.contains("cargo build --release --locked "),
        "the build is release and locked: {build}"
    );
    let built: BTreeSet<String> = build
        .split("--bin ")
        .skip(1)
        .map(|rest| rest.split_whitespace().next().expect("a name").to_owned())
        .collect();
    assert_eq!(
        built, binaries,
        "the one build names every deployable binary"
    );
    let listed: BTreeSet<String> = dockerfile
        .split_once("COMANDA_BINARIES=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .expect("ENV COMANDA_BINARIES=\"..\"")
        .0
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert_eq!(listed, binaries, "COMANDA_BINARIES (what /out receives)");

    let stages = stages(&dockerfile);
    let names: Vec<&str> = stages.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["chef", "planner", "builder", "runtime"]);
    for (name, text) in &stages {
        let per_image = instructions(text)
            .iter()
            .any(|line| line.contains("ARG BIN") || line.contains("${BIN}"));
        assert_eq!(
            per_image,
            name == "runtime",
            "only the runtime stage may depend on BIN ({name} does: {per_image}); \
             otherwise every image compiles the workspace again"
        );
    }
    let (_, builder) = &stages[2];
    let cook = builder
        .find("cargo chef cook --release --locked")
        .expect("cook");
    assert!(cook < builder.find("cargo build").expect("build"));
    let (_, runtime) = &stages[3];
    let copies: Vec<String> = instructions(runtime)
        .into_iter()
        .filter(|line| line.starts_with("COPY"))
        .collect();
    assert_eq!(
        copies,
        [
            "COPY --from=builder /out/${BIN} /usr/local/bin/${BIN}",
            "COPY --from=builder /out/${BIN}.port /etc/comanda/default-port",
        ],
        "the runtime stage copies its binary and port, nothing else"
    );
    let arg = runtime.find("ARG BIN").expect("ARG BIN");
    assert!(
        runtime.find("apt-get").expect("runtime packages") < arg,
        "ARG BIN comes after the runtime's packages, so that layer is shared too"
    );
    for expected in [
        "FROM debian:${DEBIAN_RELEASE}-slim AS runtime",
        "ARG DEBIAN_RELEASE=bookworm",
        "ca-certificates libssl3",
        "USER comanda",
        "HEALTHCHECK",
        "/health",
    ] {
        assert!(
            runtime.contains(expected) || dockerfile.contains(expected),
            "Dockerfile lacks `{expected}`"
        );
    }
    let ignored = workspace::read(".dockerignore");
    assert!(
        ignored.lines().any(|line| line.trim() == "target/"),
        ".dockerignore must keep target/ out of the context"
    );
}

#[test]
fn every_image_is_pinned_to_a_release() {
    let compose = compose();
    for (name, service) in services(&compose) {
        let name = scalar(name);
        let image = scalar(&service["image"]);
        if !service["build"].is_null() {
            assert!(image.starts_with("comanda/"), "{name}: built image {image}");
            continue;
        }
        let (_, tag) = image
            .rsplit_once(':')
            .unwrap_or_else(|| panic!("{name}: {image} has no tag"));
        // A release (optionally `v` and a variant such as `-bookworm`): major.minor.patch, or
        // major.minor where that is the release (Postgres). `15` or `latest` would move
        // under the user.
        let version = tag.trim_start_matches('v');
        let version = version.split('-').next().expect("a version");
        let parts: Vec<&str> = version.split('.').collect();
        assert!(
            (2..=3).contains(&parts.len()) && parts.iter().all(|p| p.parse::<u32>().is_ok()),
            "{name}: {image} is not pinned to a release"
        );
    }
}

#[test]
fn kafka_ui_is_the_maintained_kafbat_image_with_its_documented_probe() {
    let compose = compose();
    let ui = &services(&compose)["kafka-ui"];
    let image = scalar(&ui["image"]);
    assert!(
        image.starts_with("kafbat/kafka-ui:"),
        "provectuslabs/kafka-ui stopped at v0.7.2; use kafbat/kafka-ui: {image}"
    );
    let env = environment(ui);
    assert_eq!(env["KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS"], "kafka:9092");
    // kafbat's image is Alpine-based (busybox wget); its probe is /actuator/health.
    let probe = strings(&ui["healthcheck"]["test"]).join(" ");
    assert!(
        probe.contains("wget") && probe.contains("127.0.0.1:8080/actuator/health"),
        "{probe}"
    );
}

#[test]
fn loki_is_checked_by_its_own_binary_which_works_on_the_distroless_image() {
    let compose = compose();
    let loki = &services(&compose)["loki"];
    // From 3.2 the image has no shell and no wget; `loki -health` exists from 3.6.5 on.
    let image = scalar(&loki["image"]);
    let version: Vec<u32> = image
        .rsplit_once(':')
        .expect("a tag")
        .1
        .split('.')
        .map(|p| p.parse().expect("numeric"))
        .collect();
    assert!(
        version >= vec![3, 6, 5],
        "{image}: `loki -health` needs 3.6.5"
    );
    assert_eq!(
        strings(&loki["healthcheck"]["test"]),
        ["CMD", "/usr/bin/loki", "-health"],
        "exec form, no shell tool"
    );
}

#[test]
fn every_bind_mount_is_read_only_and_selinux_labelled() {
    let compose = compose();
    let mut bind_mounts = 0;
    for (name, service) in services(&compose) {
        for mount in strings(&service["volumes"]) {
            if !(mount.starts_with("./") || mount.starts_with('/')) {
                continue; // a named volume: Docker labels it itself
            }
            bind_mounts += 1;
            let options: BTreeSet<&str> = mount
                .splitn(3, ':')
                .nth(2)
                .unwrap_or("")
                .split(',')
                .collect();
            assert!(
                options.contains("ro") && options.contains("z"),
                "{}: `{mount}` needs `:ro,z` (SELinux hosts refuse unlabelled bind mounts)",
                scalar(name)
            );
        }
    }
    assert!(
        bind_mounts >= 5,
        "postgres init, prometheus, loki, two Grafana folders"
    );
}

#[test]
fn kafka_advertises_the_host_listener_on_ipv4_loopback() {
    let compose = compose();
    let env = environment(&services(&compose)["kafka"]);
    let advertised = &env["KAFKA_ADVERTISED_LISTENERS"];
    assert!(
        advertised.contains("HOST://127.0.0.1:9094") && !advertised.contains("localhost"),
        "an IPv6-first client resolves localhost to ::1 first, which is never published: \
         {advertised}"
    );
}

#[test]
fn the_example_env_file_says_passwords_apply_once_and_must_be_url_safe() {
    let example = workspace::read(".env.example");
    for needed in [
        "FIRST start only",
        "docker compose down -v",
        "URL-safe",
        "percent-encoded",
        "postgres://",
    ] {
        assert!(example.contains(needed), ".env.example must say `{needed}`");
    }
    // The example's own values must work in a postgres:// URL as they stand.
    for line in example.lines().filter(|line| !line.starts_with('#')) {
        if let Some((name, value)) = line.split_once('=') {
            if name.ends_with("PASSWORD") {
                assert!(
                    value
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c)),
                    "{name}={value} is not URL-safe"
                );
            }
        }
    }
}
