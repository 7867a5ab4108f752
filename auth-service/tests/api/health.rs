//! Booting, readiness, the bootstrapped admin and the JWKS.

use std::time::Duration;

use secrecy::ExposeSecret;
use serde_json::Value;

use crate::helpers::Stack;

#[tokio::test]
async fn auth_service_boots_migrated_and_ready_with_the_admin_bootstrapped_once() {
    let stack = Stack::auth_only().await;
    // The init migration and the accounts migration.
    stack.auth.assert_booted_with_outbox("20261124000000").await;
    stack.auth.assert_booted_with_outbox("20261126000000").await;

    let admin = &stack.auth_settings.admin;
    let row = stack
        .auth_db()
        .await
        .query_one(
            "SELECT role, status FROM accounts WHERE email = $1",
            &[&admin.email],
        )
        .await
        .expect("the admin exists");
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, String>(1)),
        ("ADMIN".into(), "ACTIVE".into())
    );

    // A second start-up (another replica, a restart) changes nothing.
    let pool = comanda_kit::db::pool(&stack.auth_settings.service.database).expect("pool");
    let created = auth_service::bootstrap::admin(&pool, admin, comanda_kit::settings::Env::Test)
        .await
        .expect("bootstraps");
    assert!(!created);
    let count: i64 = stack
        .auth_db()
        .await
        .query_one("SELECT count(*) FROM accounts", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(count, 1);

    let res = stack
        .login(&admin.email, admin.password.expose_secret())
        .await;
    assert_eq!(res.status(), 200);
    let session: Value = res.json().await.expect("session");
    let verifier = comanda_kit::auth::JwtVerifier::from_settings(
        &stack.auth_settings.auth.verification(),
        &comanda_kit::settings::Env::Test,
    )
    .expect("verifier");
    let claims = verifier
        .verify(session["access_token"].as_str().expect("access token"))
        .expect("a genuine token");
    assert_eq!(claims.roles, vec![comanda_kit::auth::Role::Admin]);
    assert!(claims.exp - claims.iat <= Duration::from_secs(15 * 60).as_secs() as i64);
}

#[tokio::test]
async fn the_jwks_serves_the_ed25519_public_key() {
    let stack = Stack::auth_only().await;
    let jwks: Value = stack
        .auth
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(jwks["keys"][0]["kty"], "OKP");
    assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
    assert_eq!(jwks["keys"][0]["alg"], "EdDSA");
}
