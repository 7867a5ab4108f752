//! Active health checks: every instance's `GET /health`, every interval.
//!
//! Requests take a failing instance out of rotation as soon as a connection fails;
//! only this checker puts it back, once its `/health` answers 2xx again.

use std::sync::Arc;
use std::time::Duration;

use comanda_kit::workers::{CancellationToken, Workers};

use crate::settings::HealthCheckSettings;
use crate::upstreams::{Instance, Upstreams};

/// Spawns the checker on `workers`; it runs until they stop.
pub fn spawn(
    workers: &mut Workers,
    upstreams: Arc<Upstreams>,
    settings: &HealthCheckSettings,
) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(settings.timeout_ms))
        .no_proxy()
        .build()?;
    let interval = Duration::from_millis(settings.interval_ms);
    workers.spawn("health-check", move |token| {
        run(client, upstreams, interval, token)
    });
    Ok(())
}

async fn run(
    client: reqwest::Client,
    upstreams: Arc<Upstreams>,
    interval: Duration,
    token: CancellationToken,
) {
    // Instances start presumed healthy and requests that cannot connect take them
    // out at once, so the first round can wait one interval like the others.
    loop {
        tokio::select! {
            () = token.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
        tokio::select! {
            () = token.cancelled() => return,
            () = check_all(&client, &upstreams) => {}
        }
    }
}

/// One round: checks every instance of every service at once and records the verdicts.
pub async fn check_all(client: &reqwest::Client, upstreams: &Upstreams) {
    let checks = upstreams.iter().flat_map(|upstream| {
        upstream.instances.iter().map(move |instance| async move {
            let healthy = is_healthy(client, instance).await;
            instance.set_healthy(upstream.service, healthy);
        })
    });
    futures::future::join_all(checks).await;
}

async fn is_healthy(client: &reqwest::Client, instance: &Instance) -> bool {
    let url = format!("{}/health", instance.base_url);
    match client.get(&url).send().await {
        Ok(res) => res.status().is_success(),
        Err(error) => {
            tracing::debug!(%url, %error, "health check failed");
            false
        }
    }
}
