//! `Prepared`: an UPDATE or a `sql_query` diesel would send unprepared on every call is
//! prepared once per connection and reused.

use comanda_kit::prepared::{PlannedEachCall, Prepared};
use comanda_kit::testing;
use diesel::sql_types::{BigInt, Integer};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Named prepared statements of this connection whose text starts with `prefix`.
async fn prepared_like(conn: &mut AsyncPgConnection, prefix: &str) -> i64 {
    diesel::sql_query(
        "SELECT count(*) AS n FROM pg_prepared_statements WHERE starts_with(statement, $1)",
    )
    .bind::<diesel::sql_types::Text, _>(prefix)
    .get_result::<Count>(conn)
    .await
    .expect("pg_prepared_statements")
    .n
}

#[tokio::test]
async fn a_wrapped_update_is_prepared_once_and_reused_where_a_plain_one_is_never_kept() {
    let url = testing::fresh_database("kit_prepared").await;
    let mut conn = AsyncPgConnection::establish(&url).await.expect("connects");
    diesel::sql_query("CREATE TABLE counters (id INT PRIMARY KEY, n BIGINT NOT NULL)")
        .execute(&mut conn)
        .await
        .expect("table");
    diesel::sql_query("INSERT INTO counters VALUES (1, 0), (2, 0)")
        .execute(&mut conn)
        .await
        .expect("rows");

    for _ in 0..3 {
        diesel::sql_query("UPDATE counters SET n = n + 1 WHERE id = $1")
            .bind::<Integer, _>(1)
            .execute(&mut conn)
            .await
            .expect("plain update");
    }
    for id in [2, 2, 2, 2] {
        let updated = Prepared(
            diesel::sql_query("UPDATE counters SET n = n + 10 WHERE id = $1")
                .bind::<Integer, _>(id),
        )
        .execute(&mut conn)
        .await
        .expect("prepared update");
        assert_eq!(updated, 1);
    }
    let total = Prepared(diesel::sql_query(
        "SELECT sum(n)::BIGINT AS n FROM counters",
    ))
    .get_result::<Count>(&mut conn)
    .await
    .expect("a prepared select loads");

    assert_eq!(total.n, 3 + 40, "every run took effect");
    assert_eq!(
        prepared_like(&mut conn, "UPDATE counters SET n = n + 1 ").await,
        0
    );
    assert_eq!(
        prepared_like(&mut conn, "UPDATE counters SET n = n + 10 ").await,
        1,
        "one statement for four runs"
    );
}

diesel::table! {
    counters (id) {
        id -> Integer,
        n -> BigInt,
    }
}

#[tokio::test]
async fn a_select_planned_each_call_is_never_kept_prepared_where_diesel_would_keep_it() {
    use diesel::{ExpressionMethods, QueryDsl};
    let url = testing::fresh_database("kit_planned").await;
    let mut conn = AsyncPgConnection::establish(&url).await.expect("connects");
    diesel::sql_query("CREATE TABLE counters (id INT PRIMARY KEY, n BIGINT NOT NULL)")
        .execute(&mut conn)
        .await
        .expect("table");
    diesel::sql_query("INSERT INTO counters VALUES (1, 7), (2, 9)")
        .execute(&mut conn)
        .await
        .expect("rows");
    let of = |id: i32| {
        counters::table
            .filter(counters::id.eq(id))
            .select(counters::n)
    };

    for _ in 0..4 {
        let plain: i64 = of(1).get_result(&mut conn).await.expect("plain select");
        assert_eq!(plain, 7);
    }
    assert_eq!(
        prepared_like(&mut conn, "SELECT \"counters\".\"n\"").await,
        1,
        "diesel keeps its own select prepared"
    );
    let mut fresh = AsyncPgConnection::establish(&url).await.expect("connects");
    for _ in 0..4 {
        let planned: i64 = PlannedEachCall(of(2))
            .get_result(&mut fresh)
            .await
            .expect("a select planned each call loads");
        assert_eq!(planned, 9);
    }
    assert_eq!(
        prepared_like(&mut fresh, "SELECT \"counters\".\"n\"").await,
        0,
        "the same select, wrapped, is planned on every call and never kept"
    );
}
