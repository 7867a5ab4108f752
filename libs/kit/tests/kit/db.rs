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

#[derive(diesel::QueryableByName)]
struct Pid {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pid: i32,
}

async fn backend_pid(conn: &mut diesel_async::AsyncPgConnection) -> diesel::QueryResult<i32> {
    use diesel_async::RunQueryDsl;
    diesel::sql_query("SELECT pg_backend_pid() AS pid")
        .get_result::<Pid>(conn)
        .await
        .map(|row| row.pid)
}

#[tokio::test]
async fn a_pooled_connection_whose_backend_was_terminated_is_not_handed_out_again() {
    use diesel_async::RunQueryDsl;
    let url = testing::fresh_database("kit_pool").await;
    let settings = comanda_kit::settings::DatabaseSettings {
        url: secrecy::SecretString::from(url.clone()),
        pool_size: 1,
    };
    let pool = db::pool(&settings).expect("pool");
    let first = {
        let mut conn = pool.get().await.expect("a connection");
        backend_pid(&mut conn).await.expect("pid")
    };
    // The server ends that session (a restart, an admin, an idle timeout would too).
    let mut admin = pool_free_connection(&url).await;
    diesel::sql_query(format!("SELECT pg_terminate_backend({first})"))
        .execute(&mut admin)
        .await
        .expect("terminated");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    // Checkout skips the test query, yet the closed connection is not handed out.
    let mut conn = pool.get().await.expect("a connection");
    let second = backend_pid(&mut conn)
        .await
        .expect("the first use of the next checkout works");
    assert_ne!(second, first, "a new session");
}

async fn pool_free_connection(url: &str) -> diesel_async::AsyncPgConnection {
    use diesel_async::AsyncConnection;
    diesel_async::AsyncPgConnection::establish(url)
        .await
        .expect("connects")
}
