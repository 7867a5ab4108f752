//! Layered settings.

use comanda_kit::settings::{self, ServiceSettings};
use secrecy::ExposeSecret;

const DEFAULTS: &str = r#"
[http]
host = "127.0.0.1"
port = 5999

[database]
url = "postgres://app:hunter2@127.0.0.1:5432/comanda_kit"
pool_size = 4

[kafka]
brokers = "127.0.0.1:9092"
"#;

#[test]
fn defaults_apply_when_nothing_overrides_them() {
    let s: ServiceSettings = settings::load(DEFAULTS).expect("settings");
    assert_eq!(s.env, settings::Env::Dev);
    assert_eq!(s.database.pool_size, 4);
    assert!(s.kafka.ready_check);
}

#[test]
fn environment_variables_override_the_defaults() {
    // A section only this test uses, so parallel tests never see each other's variables.
    #[derive(serde::Deserialize)]
    struct Probe {
        kit_env_probe: Section,
    }
    #[derive(serde::Deserialize)]
    struct Section {
        port: u16,
        pool_size: usize,
    }
    std::env::set_var("COMANDA__KIT_ENV_PROBE__PORT", "5010");
    std::env::set_var("COMANDA__KIT_ENV_PROBE__POOL_SIZE", "9");
    let defaults = "[kit_env_probe]\nport = 1\npool_size = 1\n";
    let probe: Probe = settings::load(defaults).expect("settings");
    assert_eq!(probe.kit_env_probe.port, 5010);
    assert_eq!(probe.kit_env_probe.pool_size, 9);
}

#[test]
fn debug_output_never_shows_the_database_password() {
    let s: ServiceSettings = settings::load(DEFAULTS).expect("settings");
    let printed = format!("{s:?}");
    assert!(!printed.contains("hunter2"), "{printed}");
    assert!(s.database.url.expose_secret().contains("hunter2"));
}

#[test]
fn secured_settings_read_the_auth_table_and_default_it_when_absent() {
    let with_auth = format!("{DEFAULTS}\n[auth]\nissuer = \"elsewhere\"\n");
    let s = settings::SecuredSettings::load(&with_auth).expect("settings");
    assert_eq!(s.auth.issuer, "elsewhere");
    assert_eq!(s.auth.audience, comanda_kit::auth::DEFAULT_AUDIENCE);
    assert_eq!(s.service.http.port, 5999);

    let without = settings::SecuredSettings::load(DEFAULTS).expect("settings");
    assert_eq!(without.auth.issuer, comanda_kit::auth::DEFAULT_ISSUER);
    assert!(
        without.auth.public_key_pem.is_empty(),
        "empty means the dev key"
    );
}
