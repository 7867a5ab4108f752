//! The `docker compose up` stack and the workspace agree: the Compose tool accepts the file,
//! every binary has a service with the ports and settings its code expects, kafka-init creates
//! the catalogued topics, and every dashboard query and alert rule asks only for metrics,
//! labels and log fields the code really emits. The Docker path is the one users meet: one
//! build for every image, pinned images with working health checks, SELinux-safe mounts, and a
//! private-by-default stack.
//!
//! No Docker engine runs on the development machines or in CI, so these tests are how the
//! compose path is checked: `docker-compose config` for the file's validity, and the
//! workspace's own files (manifests, `config/default.toml`, `topics.rs`, the `metrics::` and
//! `tracing::` calls) for everything the file must agree with. Images are never built or run.
//!
//! One binary with a module per concern (the files would be well over 400 lines as one).

mod alerting;
mod compose;
mod dashboards;
mod docker;
mod exposure;
mod kafka_acl;
mod queries;
mod workspace;
