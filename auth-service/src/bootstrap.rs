//! The administrator account, created ACTIVE at start-up when missing.
//!
//! Staff cannot register themselves as ADMIN, so the first admin comes from settings.
//! Idempotent: an existing account with that email (admin or not) is left untouched,
//! so restarts and several replicas starting at once are harmless.
//!
//! Outside `dev` and `test` it fails closed: the dev password is refused in the
//! settings, and so is any stored ADMIN account that still accepts it (an admin created
//! by a dev run whose database went to production, or an `env` fixed after the fact).

use anyhow::Context;
use comanda_kit::db::Pool;
use comanda_kit::settings::Env;
use secrecy::ExposeSecret;
use uuid::Uuid;

use crate::db::accounts::{self, NewAccount};
use crate::domain::account::Status;
use crate::domain::password;
use crate::domain::registration::{Email, Password};
use crate::settings::{AdminSettings, DEV_ADMIN_PASSWORD};

/// Creates the admin of `settings` unless its email exists; true when created.
pub async fn admin(pool: &Pool, settings: &AdminSettings, env: Env) -> anyhow::Result<bool> {
    let secret = settings.password.expose_secret().to_owned();
    anyhow::ensure!(
        env.allows_dev_secrets() || secret != DEV_ADMIN_PASSWORD,
        "admin.password must be changed from the development default in {env}"
    );
    let email = Email::parse(&settings.email).context("admin.email")?;
    Password::parse(&secret).context("admin.password")?;
    let mut conn = pool
        .get()
        .await
        .context("connecting to bootstrap the admin")?;
    if !env.allows_dev_secrets() {
        refuse_admins_with_the_dev_password(&mut conn, env).await?;
    }
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

/// Fails when a stored ADMIN account (not REJECTED) still accepts [`DEV_ADMIN_PASSWORD`].
async fn refuse_admins_with_the_dev_password(
    conn: &mut diesel_async::AsyncPgConnection,
    env: Env,
) -> anyhow::Result<()> {
    for (email, hash) in accounts::admin_hashes(conn).await? {
        let dev = tokio::task::spawn_blocking(move || password::verify(DEV_ADMIN_PASSWORD, &hash))
            .await?;
        anyhow::ensure!(
            !dev,
            "the ADMIN account {email} still accepts the development password, refused in \
             {env}: give it a password of its own (a new argon2id hash in accounts.password_hash) \
             before starting"
        );
    }
    Ok(())
}
