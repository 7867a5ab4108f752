//! Topics are created with the durability the settings ask for.

use std::time::Duration;

use comanda_outbox::topics::{self, Durability};
use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;
use rdkafka::ClientConfig;

use crate::helpers::{brokers, unique_topic};

/// The value of config `name` of `topic`, as the broker describes it.
async fn topic_config(topic: &str, name: &str) -> Option<String> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .create()
        .expect("admin client");
    let options = AdminOptions::new().request_timeout(Some(Duration::from_secs(10)));
    let described = admin
        .describe_configs(&[ResourceSpecifier::Topic(topic)], &options)
        .await
        .expect("describe configs");
    described
        .into_iter()
        .next()
        .expect("one resource")
        .expect("the topic is described")
        .get(name)
        .and_then(|entry| entry.value.clone())
}

#[tokio::test]
async fn a_created_topic_carries_the_configured_min_insync_replicas() {
    let topic = unique_topic("durable");
    // 2, not the broker's default of 1, so only the setting can explain the value read
    // back (one broker here: nothing is produced to this topic).
    let durability = Durability {
        replication_factor: 1,
        min_insync_replicas: 2,
    };
    topics::ensure_durable(&brokers(), &[&topic], durability)
        .await
        .expect("topic created");
    assert_eq!(
        topic_config(&topic, "min.insync.replicas").await.as_deref(),
        Some("2")
    );
}
