//! Reading an order stays an index lookup however much the tables grew since a pooled
//! connection first read one: a plan Postgres cached while `order_lines` was nearly
//! empty must not become a sequential scan of every order's lines (issue #15's soak:
//! 19,875 such scans over 30,000 orders, each call slower than the one before).

use comanda_kit::testing;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use order_service::db::orders;
use uuid::Uuid;

#[derive(diesel::QueryableByName)]
struct Scans {
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = BigInt)]
    idx: i64,
}

/// `orders` CONFIRMED orders of two lines each, written straight in SQL.
async fn orders_with_two_lines(conn: &mut AsyncPgConnection, orders: i64) {
    diesel::sql_query(format!(
        "WITH o AS ( \
           INSERT INTO orders (id, user_id, status, created_at, updated_at) \
           SELECT gen_random_uuid(), gen_random_uuid(), 'CONFIRMED', now(), now() \
           FROM generate_series(1, {orders}) RETURNING id) \
         INSERT INTO order_lines (order_id, product_id, quantity) \
         SELECT o.id, gen_random_uuid(), 1 FROM o, generate_series(1, 2)"
    ))
    .execute(conn)
    .await
    .expect("orders inserted");
}

/// Sequential and index scans of `order_lines` in this connection's open transaction.
async fn scans_of_lines(conn: &mut AsyncPgConnection) -> Scans {
    diesel::sql_query(
        "SELECT coalesce(seq_scan, 0) AS seq, coalesce(idx_scan, 0) AS idx \
         FROM pg_stat_xact_user_tables WHERE relname = 'order_lines'",
    )
    .get_result(conn)
    .await
    .expect("scan counts")
}

#[tokio::test]
async fn an_orders_lines_are_read_by_index_after_the_table_grew_under_a_cached_plan() {
    let url = testing::fresh_database("order_plans").await;
    let migrations = vec![comanda_outbox::MIGRATIONS, order_service::MIGRATIONS];
    comanda_kit::db::run_migrations(&url, migrations)
        .await
        .expect("migrated");
    let mut conn = AsyncPgConnection::establish(&url).await.expect("connects");
    // A young deployment: a few hundred orders (below ~1,000 lines, a sequential
    // scan is what Postgres's generic plan for an order's lines picks).
    orders_with_two_lines(&mut conn, 300).await;
    let first: Uuid = diesel::sql_query("SELECT id FROM orders LIMIT 1")
        .get_result::<IdRow>(&mut conn)
        .await
        .expect("the order")
        .id;
    // Its pooled connection reads orders often enough for Postgres to settle on a
    // generic plan (it does after five runs).
    for _ in 0..10 {
        let order = orders::find(&mut conn, first).await.expect("found");
        assert_eq!(order.lines.len(), 2);
    }
    // Then the tables grow, with no ANALYZE in between (autovacuum off, or behind).
    orders_with_two_lines(&mut conn, 50_000).await;

    diesel::sql_query("BEGIN")
        .execute(&mut conn)
        .await
        .expect("begin");
    let order = orders::find(&mut conn, first).await.expect("found");
    let locked = orders::lock(&mut conn, first).await.expect("locked");
    let scans = scans_of_lines(&mut conn).await;
    diesel::sql_query("ROLLBACK")
        .execute(&mut conn)
        .await
        .expect("rollback");

    assert_eq!(order.lines.len(), 2, "the same order, whole");
    assert_eq!(locked.lines, order.lines);
    assert_eq!(
        scans.seq, 0,
        "no read of one order's lines scans all 100,600 lines"
    );
    assert!(scans.idx >= 2, "both reads used an index: {}", scans.idx);
}

#[derive(diesel::QueryableByName)]
struct IdRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
}
