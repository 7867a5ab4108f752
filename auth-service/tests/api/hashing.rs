//! Password hashing is bounded: a burst of logins runs at most `hashing.max_concurrent`
//! (default: the number of cores) argon2 verifications at once, a short queue waits,
//! and the rest are answered 503 `busy` with `Retry-After` at once.

use std::time::{Duration, Instant};

use secrecy::ExposeSecret;

use crate::helpers::Stack;

/// Concurrent logins of the burst.
const BURST: usize = 200;

/// Peak resident memory of this process (the service runs in it), in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

/// The value of the unlabelled `metric` in auth-service's `/metrics`.
async fn metric(stack: &Stack, metric: &str) -> Option<f64> {
    let text = stack
        .auth
        .client
        .get(format!("{}/metrics", stack.auth.address))
        .send()
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{metric} ")))
        .and_then(|value| value.trim().parse().ok())
}

#[tokio::test]
async fn a_burst_of_200_logins_hashes_at_most_one_per_core_and_refuses_the_rest_fast() {
    let stack = Stack::auth_only().await;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let admin = stack.auth_settings.admin.clone();
    let body = serde_json::json!({
        "email": admin.email,
        "password": admin.password.expose_secret(),
    });
    let url = format!("{}/api/v1/auth/login", stack.auth.address);
    let rss_before = peak_rss_kib();

    let requests: Vec<_> = (0..BURST)
        .map(|_| {
            let request = stack.auth.client.post(&url).json(&body);
            tokio::spawn(async move {
                let started = Instant::now();
                let res = request.send().await.expect("POST /login");
                let status = res.status().as_u16();
                let retry_after = res
                    .headers()
                    .get("retry-after")
                    .map(|v| v.to_str().expect("ascii").to_owned());
                let content_type = res
                    .headers()
                    .get("content-type")
                    .map(|v| v.to_str().expect("ascii").to_owned());
                let body: serde_json::Value = res.json().await.expect("JSON body");
                (status, started.elapsed(), retry_after, content_type, body)
            })
        })
        .collect();
    let mut answers = Vec::with_capacity(BURST);
    for request in requests {
        answers.push(request.await.expect("joined"));
    }
    let rss_growth_mib = (peak_rss_kib() - rss_before) / 1024;

    let signed_in: Vec<Duration> = answers.iter().filter(|a| a.0 == 200).map(|a| a.1).collect();
    let refused: Vec<_> = answers.iter().filter(|a| a.0 == 503).collect();
    assert_eq!(
        signed_in.len() + refused.len(),
        BURST,
        "every answer is 200 or 503: {:?}",
        answers.iter().map(|a| a.0).collect::<Vec<_>>()
    );
    assert!(!signed_in.is_empty(), "some logins go through");
    assert!(!refused.is_empty(), "a burst beyond the bound is refused");
    for (_, _, retry_after, content_type, body) in &refused {
        assert_eq!(retry_after.as_deref(), Some("1"));
        assert_eq!(content_type.as_deref(), Some("application/problem+json"));
        assert_eq!(body["code"], "busy");
    }

    // What ran at once, as the service counts it.
    let peak = metric(&stack, "auth_password_hashes_in_flight_peak")
        .await
        .expect("the peak gauge is exported");
    assert!(
        peak >= 1.0 && peak <= cores as f64,
        "peak {peak} hashes at once, bound {cores}"
    );
    let counted = metric(&stack, "auth_password_hashes_refused_total")
        .await
        .expect("the refusals counter is exported");
    assert_eq!(counted, refused.len() as f64);

    // Refusals are fast: they wait for no hash and no database.
    let mut refused_latency: Vec<Duration> = refused.iter().map(|a| a.1).collect();
    refused_latency.sort();
    let p90 = refused_latency[refused_latency.len() * 9 / 10];
    let slowest_login = signed_in.iter().max().copied().unwrap_or_default();
    println!(
        "{} signed in (slowest {slowest_login:?}), {} refused (p90 {p90:?}), peak {peak} of \
         {cores} cores, peak RSS grew {rss_growth_mib} MiB",
        signed_in.len(),
        refused.len()
    );
    assert!(
        p90 < Duration::from_secs(1),
        "90% of refusals within 1 s: {p90:?}"
    );
    // argon2 takes 19 MiB per hash: the bound keeps memory to a few of them.
    assert!(
        rss_growth_mib < 19 * cores as u64 + 200,
        "peak memory grew {rss_growth_mib} MiB"
    );
}
