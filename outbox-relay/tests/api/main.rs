//! The relay, run as a real process against real Postgres and a real
//! Kafka-protocol broker: publishing, crashes, broker outages, leadership.

mod crash;
mod dlq;
mod failover;
mod helpers;
mod leadership;
mod metrics;
mod ordering;
mod outage;
mod publishing;
mod settings;
