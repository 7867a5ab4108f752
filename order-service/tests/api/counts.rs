//! The counts taken for every new order — the saga backlog (`orders.max_pending`) and a
//! user's open orders (`orders.max_open_per_user`) — read their partial indexes also in
//! a generic plan, the one Postgres caches for a prepared statement run many times. With
//! the status bound as a parameter it cannot prove a partial index applies, and the
//! backlog count read every order there is: the soak (`cargo xtask bench e2e -- --orders`)
//! showed it at 1.7 ms and growing with the table.

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use order_service::db::orders;
use uuid::Uuid;

#[derive(QueryableByName)]
struct Scans {
    #[diesel(sql_type = BigInt)]
    seq_scan: i64,
    #[diesel(sql_type = BigInt)]
    idx_scan: i64,
}

#[tokio::test]
async fn the_backlog_and_open_order_counts_read_partial_indexes_in_a_generic_plan() {
    let url = comanda_kit::testing::fresh_database("order_counts").await;
    comanda_kit::db::run_migrations(
        &url,
        vec![comanda_outbox::MIGRATIONS, order_service::MIGRATIONS],
    )
    .await
    .expect("migrations");
    let mut conn = AsyncPgConnection::establish(&url).await.expect("connects");
    let user = Uuid::now_v7();
    // Many decided orders, of this user and others, and a few open ones.
    diesel::sql_query(
        "INSERT INTO orders (id, user_id, status, created_at, updated_at) \
         SELECT gen_random_uuid(), CASE WHEN n % 10 = 0 THEN $1 ELSE gen_random_uuid() END, \
                CASE WHEN n % 500 = 0 THEN 'PENDING' WHEN n % 7 = 0 THEN 'CONFIRMED' ELSE 'PAID' END, \
                now(), now() \
         FROM generate_series(1, 20000) AS n",
    )
    .bind::<diesel::sql_types::Uuid, _>(user)
    .execute(&mut conn)
    .await
    .expect("orders");
    diesel::sql_query("ANALYZE orders")
        .execute(&mut conn)
        .await
        .expect("analyze");

    // One transaction, so pg_stat_xact_user_tables holds just these two counts.
    for sql in ["BEGIN", "SET LOCAL plan_cache_mode = force_generic_plan"] {
        diesel::sql_query(sql).execute(&mut conn).await.expect(sql);
    }
    let pending = orders::count_pending(&mut conn).await.expect("backlog");
    let open = orders::count_open(&mut conn, user).await.expect("open");
    let scans: Scans = diesel::sql_query(
        "SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables WHERE relname = 'orders'",
    )
    .get_result(&mut conn)
    .await
    .expect("scans");

    assert_eq!(pending, 40, "PENDING: every 500th of 20,000");
    // The user's orders are n = 10, 20, …; open where n % 500 = 0 or n % 7 = 0.
    let expected_open = (1..=20_000)
        .filter(|n| n % 10 == 0 && (n % 500 == 0 || n % 7 == 0))
        .count() as i64;
    assert_eq!(open, expected_open);
    assert_eq!(scans.seq_scan, 0, "no count reads the whole table");
    assert_eq!(scans.idx_scan, 2, "each count reads an index");
}
