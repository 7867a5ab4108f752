//! Spawning the gateway for a test.

use comanda_kit::settings::HttpSettings;
use comanda_kit::testing::{self, TestApp};
use gateway::settings::Settings;

/// Starts the gateway on port 0.
pub fn spawn_app() -> TestApp {
    testing::init_test_logs();
    let settings = Settings {
        env: "test".to_owned(),
        http: HttpSettings {
            host: "127.0.0.1".to_owned(),
            port: 0,
        },
    };
    TestApp::spawn(gateway::startup::build(&settings).expect("the gateway builds"))
}
