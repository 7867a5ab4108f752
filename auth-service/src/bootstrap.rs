//! The administrator account, created ACTIVE at start-up when missing.
//!
//! Staff cannot register themselves as ADMIN, so the first admin comes from settings.
//! Idempotent: an existing account with that email (admin or not) is left untouched,
//! so restarts and several replicas starting at once are harmless.

use anyhow::Context;
use comanda_kit::db::Pool;
use secrecy::ExposeSecret;
use uuid::Uuid;

use crate::db::accounts::{self, NewAccount};
use crate::domain::account::Status;
use crate::domain::password;
use crate::domain::registration::{Email, Password};
use crate::settings::{AdminSettings, DEV_ADMIN_PASSWORD};

/// Creates the admin of `settings` unless its email exists; true when created.
pub async fn admin(pool: &Pool, settings: &AdminSettings, env: &str) -> anyhow::Result<bool> {
    let secret = settings.password.expose_secret().to_owned();
    anyhow::ensure!(
        env != "prod" || secret != DEV_ADMIN_PASSWORD,
        "admin.password must be changed from the dev default in prod"
    );
    let email = Email::parse(&settings.email).context("admin.email")?;
    Password::parse(&secret).context("admin.password")?;
    let mut conn = pool
        .get()
        .await
        .context("connecting to bootstrap the admin")?;
    if accounts::find_by_email(&mut conn, email.as_str())
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let password_hash = tokio::task::spawn_blocking(move || password::hash(&secret)).await??;
    let created = accounts::insert_if_missing(
        &mut conn,
        &NewAccount {
            id: Uuid::now_v7(),
            email: email.as_str(),
            password_hash: &password_hash,
            role: "ADMIN",
            status: Status::Active.as_str(),
            poll_token_hash: None,
        },
    )
    .await?;
    if created {
        tracing::info!(email = email.as_str(), "admin account bootstrapped");
    }
    Ok(created)
}
