//! Spawning the gateway in front of test upstreams, and access tokens.

use std::time::Duration;

use comanda_kit::auth::{self, Claims, JwtSigner, Role};
use gateway::settings::Settings;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use uuid::Uuid;

use crate::upstream::TestUpstream;

/// An address where nothing listens (port 9 is `discard`, closed on test machines).
pub const NOWHERE: &str = "http://127.0.0.1:9";

/// A gateway running in the background of a test.
pub struct TestGateway {
    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub address: String,
    /// A client for requests to `address`.
    pub client: reqwest::Client,
}

impl TestGateway {
    /// `address + path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// `GET address + path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request to the gateway")
    }
}

/// Settings for a test: port 0, every service at [`NOWHERE`], fast health checks.
pub fn test_settings() -> Settings {
    let mut settings: Settings =
        comanda_kit::settings::load(gateway::settings::DEFAULTS).expect("defaults parse");
    settings.env = comanda_kit::settings::Env::Test;
    settings.http.port = 0;
    for upstream in [
        &mut settings.upstreams.auth,
        &mut settings.upstreams.user,
        &mut settings.upstreams.order,
        &mut settings.upstreams.product,
        &mut settings.upstreams.payment,
    ] {
        upstream.urls = vec![NOWHERE.to_owned()];
    }
    settings.health_check.interval_ms = 100;
    settings.health_check.timeout_ms = 200;
    settings.proxy.timeout_ms = 5_000;
    settings
}

/// Starts a gateway with `settings` (see [`test_settings`]).
pub fn spawn_gateway(settings: &Settings) -> TestGateway {
    comanda_kit::testing::init_test_logs();
    let app = gateway::startup::build(settings).expect("the gateway builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    TestGateway {
        address,
        client: reqwest::Client::new(),
    }
}

/// A gateway whose `service` ("auth", "user", "order", "product" or "payment") is one fresh test
/// upstream, with `tweak` applied to [`test_settings`] first.
pub fn gateway_before_one(
    service: &str,
    tweak: impl FnOnce(&mut Settings),
) -> (TestGateway, TestUpstream) {
    let upstream = TestUpstream::start(service);
    let mut settings = test_settings();
    let upstreams = &mut settings.upstreams;
    let urls = match service {
        "auth" => &mut upstreams.auth.urls,
        "user" => &mut upstreams.user.urls,
        "order" => &mut upstreams.order.urls,
        "product" => &mut upstreams.product.urls,
        "payment" => &mut upstreams.payment.urls,
        other => panic!("no service called {other}"),
    };
    *urls = vec![upstream.url.clone()];
    tweak(&mut settings);
    (spawn_gateway(&settings), upstream)
}

/// A gateway with default test settings and no reachable upstream.
pub fn spawn_app() -> TestGateway {
    spawn_gateway(&test_settings())
}

pub use comanda_testkit::eventually;

fn signer() -> JwtSigner {
    JwtSigner::from_private_pem(
        auth::DEV_PRIVATE_KEY_PEM,
        auth::DEFAULT_ISSUER,
        auth::DEFAULT_AUDIENCE,
        Duration::from_secs(300),
    )
    .expect("the dev private key parses")
}

/// A valid access token of a customer (dev key).
pub fn valid_token() -> String {
    token_of(Uuid::now_v7())
}

/// A valid access token of customer `user` (dev key).
pub fn token_of(user: Uuid) -> String {
    signer().sign(user, &[Role::User]).expect("signs").0
}

/// Tokens the edge must refuse, named: expired, `alg: none`, garbage.
pub fn bad_tokens() -> Vec<(&'static str, String)> {
    let (genuine, claims) = signer().sign(Uuid::now_v7(), &[Role::User]).expect("signs");
    let now = chrono::Utc::now().timestamp();
    let expired = Claims {
        iat: now - 600,
        exp: now - 300,
        ..claims
    };
    let key = EncodingKey::from_ed_pem(auth::DEV_PRIVATE_KEY_PEM.as_bytes()).expect("key");
    let expired =
        jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &expired, &key).expect("encodes");
    let payload = genuine.split('.').nth(1).expect("a payload");
    vec![
        ("expired", expired),
        // {"alg":"none","typ":"JWT"}, no signature.
        (
            "alg none",
            format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}."),
        ),
        ("garbage", "not-a-token".to_owned()),
    ]
}

/// The `code` of a problem response, after checking its media type.
pub async fn problem_code(res: reqwest::Response) -> String {
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert_eq!(content_type.as_deref(), Some("application/problem+json"));
    let body: serde_json::Value = res.json().await.expect("problem JSON");
    body["code"].as_str().expect("a code").to_owned()
}
