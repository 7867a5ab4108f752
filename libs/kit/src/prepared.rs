//! [`Prepared`]: a statement prepared once per connection and reused, where diesel
//! would send it unprepared on every call.
//!
//! Why: diesel keeps a per-connection cache of prepared statements, but leaves out every
//! `UPDATE`, every upsert with `DO UPDATE` and every `sql_query` (they call
//! `unsafe_to_cache_prepared`, because their SQL text may differ from call to call and
//! would fill the cache). Such a statement is parsed and planned by Postgres on EVERY
//! call. In the e2e bench (issue #15, pg_stat_statements over 3,000 orders at 100/s),
//! order-service's database planned 54,558 of its 121,930 statements, 2.3 s of planning
//! against 4.9 s of execution, on the hottest statements of the saga: the order's status,
//! payment and total updates, the deadlines' delete and upsert, the relay's claim and mark.
//!
//! Wrapping such a query in [`Prepared`] declares its SQL text fixed: the cache key is the
//! SQL text with its bind types (the query has no static type id), so it is prepared once
//! per connection, and after five runs Postgres keeps a generic plan when that is no
//! worse. Use it only where the SQL text is the same on every call — never around SQL
//! built with `format!` from values, or a query whose bind count varies (`IN` lists of
//! any length; `= ANY($1)` is fine): each distinct text would stay prepared for the
//! connection's life.
//!
//! Relies on diesel's `i-implement-a-third-party-backend-and-opt-into-breaking-changes`
//! feature (which diesel-async turns on anyway) to answer `is_safe_to_cache_prepared`.

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::QueryResult;

/// `query`, prepared once per connection and reused (see the module doc).
#[derive(Debug, Clone, Copy)]
pub struct Prepared<Q>(pub Q);

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Prepared<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

/// No static id: the statement cache keys it by its SQL text and bind types.
impl<Q> QueryId for Prepared<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Prepared<Q> {
    type SqlType = Q::SqlType;
}

/// `query`, sent unprepared: Postgres plans it on every call with the call's own
/// parameters and the table's size at that moment.
///
/// Why: a cached statement's plan can outlive what it was made for. After five runs
/// Postgres may keep a *generic* plan, and it keeps it until the table's statistics
/// change. On a table that was nearly empty when a pooled connection first ran the
/// query, that generic plan can be a sequential scan, and with no ANALYZE since (no
/// autovacuum, or a table growing faster than it runs) every later call scans the
/// whole, now large, table. The soak of issue #15 found order-service reading an
/// order's lines that way: 19,875 sequential scans of `order_lines` (488 million rows
/// read) over 30,000 orders, 2.3 ms a call and growing with every order.
///
/// Use it for a read whose right plan depends on the table's size (a non-unique key,
/// `= ANY($1)`); planning costs a few tens of microseconds a call. A lookup by the
/// whole primary key needs no such care: its generic plan is an index scan at any size.
#[derive(Debug, Clone, Copy)]
pub struct PlannedEachCall<Q>(pub Q);

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for PlannedEachCall<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &Pg) -> QueryResult<bool> {
        Ok(false)
    }
}

/// No static id: never cached, so never looked up by one.
impl<Q> QueryId for PlannedEachCall<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for PlannedEachCall<Q> {
    type SqlType = Q::SqlType;
}
