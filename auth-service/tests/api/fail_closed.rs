//! Start-up fails closed outside `dev` and `test`: an environment name that is not
//! exactly `dev`, `test` or `prod` refuses to load, and in `prod` the committed
//! development secrets — the key pair (empty or pasted in) and the admin password (in
//! the settings or still accepted by a stored admin) — refuse to start.

use auth_service::settings::Settings;
use auth_service::startup::Application;
use comanda_kit::auth::{DEV_PRIVATE_KEY_PEM, DEV_PUBLIC_KEY_PEM};
use comanda_kit::settings::ServiceSettings;
use comanda_testkit::TestEnv;
use secrecy::SecretString;

use crate::helpers::Stack;

/// An Ed25519 pair generated for these tests only (not the dev pair).
const OWN_PRIVATE_KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIPeq6dtqVLAVsyU29BMZPg7asVs5bH/F+vreFyOC1Yyq\n-----END PRIVATE KEY-----\n";
const OWN_PUBLIC_KEY_PEM: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAYWknUgnLDsheTurO2WosLdOuO+dKiqkadFCPgfFjmDU=\n-----END PUBLIC KEY-----\n";
/// An admin password of the deployment's own.
const OWN_ADMIN_PASSWORD: &str = "a production admin secret";

/// `settings` as a production deployment would set them: `env = "prod"`, its own key
/// pair and admin password.
fn in_prod(mut settings: Settings) -> Settings {
    // `parse` rather than the enum, so this file also builds against the old `String`.
    settings.service.env = "prod".parse().expect("prod is an environment");
    settings.auth.private_key_pem = SecretString::from(OWN_PRIVATE_KEY_PEM);
    settings.auth.public_key_pem = OWN_PUBLIC_KEY_PEM.to_owned();
    settings.admin.password = SecretString::from(OWN_ADMIN_PASSWORD);
    settings
}

async fn fresh_settings(env: &TestEnv) -> Settings {
    Settings::for_tests(env.service_settings("auth").await)
}

/// Why `settings` did not build; panics when they did.
async fn refusal(settings: Settings) -> String {
    match Application::build(settings).await {
        Ok(_) => panic!("auth-service started, but it must refuse to"),
        Err(error) => format!("{error:#}"),
    }
}

#[test]
fn environment_names_other_than_dev_test_and_prod_refuse_to_load() {
    let defaults = auth_service::settings::DEFAULTS;
    for name in [
        "production",
        "PROD",
        "Prod",
        "prod ",
        " prod",
        "staging",
        "",
    ] {
        let toml = defaults.replacen("env = \"dev\"", &format!("env = {name:?}"), 1);
        assert_ne!(toml, defaults, "the defaults set env");
        let error = match comanda_kit::settings::load::<ServiceSettings>(&toml) {
            Ok(_) => panic!("env = {name:?} loaded; it must be refused"),
            Err(error) => error.to_string(),
        };
        assert!(
            error.contains(&format!("{name:?}")) && error.contains(r#""dev", "test" or "prod""#),
            "the message names the value and the choices: {error}"
        );
    }
    for name in ["dev", "test", "prod"] {
        let toml = defaults.replacen("env = \"dev\"", &format!("env = {name:?}"), 1);
        let loaded = comanda_kit::settings::load::<ServiceSettings>(&toml).expect(name);
        assert_eq!(loaded.env.to_string(), name);
    }
}

#[test]
fn comanda_env_production_refuses_to_load_auth_service_settings() {
    // nextest runs each test in a process of its own: the variable reaches no other test.
    std::env::set_var("COMANDA__ENV", "production");
    let loaded = auth_service::settings::load();
    std::env::remove_var("COMANDA__ENV");
    let error = loaded.expect_err("COMANDA__ENV=production must not load");
    assert!(error.to_string().contains("\"production\""), "{error}");
}

#[tokio::test]
async fn prod_with_its_own_keys_and_admin_password_starts() {
    let env = TestEnv::new().await;
    let settings = in_prod(fresh_settings(&env).await);
    Application::build(settings)
        .await
        .expect("a proper prod configuration starts");
}

#[tokio::test]
async fn the_dev_keys_pasted_as_the_configured_pems_are_refused_in_prod() {
    let env = TestEnv::new().await;
    // Pasted through a config file or a variable: other line ends, extra blank lines.
    let reformatted = |pem: &str| format!("\n{}\r\n", pem.trim().replace('\n', "\r\n"));

    let mut both = in_prod(fresh_settings(&env).await);
    both.auth.private_key_pem = SecretString::from(reformatted(DEV_PRIVATE_KEY_PEM));
    both.auth.public_key_pem = reformatted(DEV_PUBLIC_KEY_PEM);
    let error = refusal(both).await;
    assert!(error.contains("development key"), "{error}");

    // The verifying half alone: every token signed with the public dev key's
    // private half would pass.
    let mut public = in_prod(fresh_settings(&env).await);
    public.auth.public_key_pem = reformatted(DEV_PUBLIC_KEY_PEM);
    let error = refusal(public).await;
    assert!(error.contains("development key"), "{error}");

    // Empty keys mean the dev pair: refused too.
    let mut empty = in_prod(fresh_settings(&env).await);
    empty.auth.private_key_pem = SecretString::from("");
    empty.auth.public_key_pem = String::new();
    let error = refusal(empty).await;
    assert!(error.contains("must be set"), "{error}");
}

#[tokio::test]
async fn the_dev_admin_password_is_refused_in_prod() {
    let env = TestEnv::new().await;
    let mut settings = in_prod(fresh_settings(&env).await);
    settings.admin.password = SecretString::from(auth_service::settings::DEV_ADMIN_PASSWORD);
    let error = refusal(settings).await;
    assert!(error.contains("admin.password"), "{error}");
}

#[tokio::test]
async fn a_stored_admin_that_still_accepts_the_dev_password_refuses_to_start_in_prod() {
    // A dev run bootstrapped the admin with the dev password...
    let stack = Stack::auth_only().await;
    let admin_email = stack.auth_settings.admin.email.clone();

    // ...and the same database is started in prod with a new password in the
    // settings: the stored admin still opens with the dev one.
    let error = refusal(in_prod(stack.auth_settings.clone())).await;
    assert!(
        error.contains(&admin_email) && error.contains("development password"),
        "{error}"
    );

    // Once the account has a password of its own, prod starts.
    let hash = auth_service::domain::password::hash(OWN_ADMIN_PASSWORD).expect("hashes");
    stack
        .auth_db()
        .await
        .execute(
            "UPDATE accounts SET password_hash = $1 WHERE email = $2",
            &[&hash, &admin_email],
        )
        .await
        .expect("new admin password");
    Application::build(in_prod(stack.auth_settings.clone()))
        .await
        .expect("prod starts once the admin's password is its own");
}
