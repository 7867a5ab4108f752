//! Migrations and database creation.

use comanda_kit::db;
use comanda_kit::testing::{self, TestApp};
use diesel_migrations::{embed_migrations, EmbeddedMigrations};

const FIRST: EmbeddedMigrations = embed_migrations!("tests/kit/migrations/first");
const SECOND: EmbeddedMigrations = embed_migrations!("tests/kit/migrations/second");

fn inspect(url: &str) -> TestApp {
    // Only the database helpers of TestApp are used; no server is needed.
    TestApp {
        address: String::new(),
        port: 0,
        client: reqwest::Client::new(),
        database_url: Some(url.to_owned()),
    }
}

/// Runs both test sources on `url`.
async fn migrate(url: &str) {
    db::run_migrations(url, vec![FIRST, SECOND])
        .await
        .expect("migrations run");
}

#[tokio::test]
async fn run_migrations_applies_every_source_in_order() {
    let url = testing::fresh_database("kit_migrations").await;
    migrate(&url).await;
    let db = inspect(&url);
    let applied = db.applied_migrations().await;
    assert_eq!(applied, ["00000000000001", "00000000000002"]);
    // kit_second references kit_first: it exists only if the first source ran first.
    let tables = db.tables().await;
    assert!(tables.iter().any(|t| t == "kit_second"), "{tables:?}");
}

#[tokio::test]
async fn run_migrations_twice_applies_nothing_new() {
    let url = testing::fresh_database("kit_migrations").await;
    migrate(&url).await;
    migrate(&url).await;
    assert_eq!(inspect(&url).applied_migrations().await.len(), 2);
}

#[tokio::test]
async fn create_database_if_missing_is_idempotent() {
    let url = testing::fresh_database("kit_create").await;
    let other = db::with_database_name(
        &url,
        &format!("kit_create_{}", uuid::Uuid::new_v4().simple()),
    )
    .expect("url");
    db::create_database_if_missing(&other)
        .await
        .expect("created");
    db::create_database_if_missing(&other)
        .await
        .expect("exists already");
    db::run_migrations(&other, vec![FIRST])
        .await
        .expect("usable");
}

#[test]
fn with_database_name_keeps_credentials_host_and_options() {
    let url =
        db::with_database_name("postgres://u:p@h:5433/old?sslmode=disable", "new").expect("url");
    assert_eq!(url, "postgres://u:p@h:5433/new?sslmode=disable");
    let url = db::with_database_name("postgres://h", "new").expect("url");
    assert_eq!(url, "postgres://h/new");
}
