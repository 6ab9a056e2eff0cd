//! PostgreSQL behind the [`Database`] interface: catalog queries for status and lint.
//!
//! The session is made read-only (`default_transaction_read_only`), with a statement
//! timeout and a short lock timeout, so that looking at a busy database can neither
//! change it nor hang behind a migration's ACCESS EXCLUSIVE lock.

use std::time::Duration;

use anyhow::{anyhow, Context};
use dbguard_core::target::Engine;
use tokio_postgres::Client;

use super::pg_connect::{self, describe_pg_error};
use super::{
    humanize_millis, migration_table_names, Database, MigrationInfo, SearchPath, ServerInfo, TableInfo,
    CLONE_COMMENT_PREFIX, CLONE_PREFIX, MIGRATION_SPECS,
};

/// Upper bound for any one catalog query (exact counts set their own).
const STATEMENT_TIMEOUT_MS: u64 = 15_000;
const LOCK_TIMEOUT_MS: u64 = 2_000;

pub struct PgDb {
    rt: tokio::runtime::Runtime,
    client: Client,
}

fn pg_err(e: tokio_postgres::Error) -> anyhow::Error {
    anyhow!(describe_pg_error(&e))
}

impl PgDb {
    /// Connect within `timeout` (a bounded error otherwise, URL redacted).
    pub fn connect(url: &str, timeout: Duration) -> anyhow::Result<PgDb> {
        let rt = pg_connect::runtime()?;
        let client = rt.block_on(pg_connect::connect(url, timeout))?;
        let db = PgDb { rt, client };
        db.batch(&format!(
            "SET default_transaction_read_only = on; SET statement_timeout = {STATEMENT_TIMEOUT_MS}; SET lock_timeout = {LOCK_TIMEOUT_MS}"
        ))
        .context("preparing the session")?;
        Ok(db)
    }

    #[allow(dead_code)]
    /// The underlying client, for callers needing more than the interface (on `runtime()`).
    pub fn client(&self) -> &Client {
        &self.client
    }

    #[allow(dead_code)]
    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.rt
    }

    fn batch(&self, sql: &str) -> anyhow::Result<()> {
        self.rt.block_on(self.client.batch_execute(sql)).map_err(pg_err)
    }

    fn query(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> anyhow::Result<Vec<tokio_postgres::Row>> {
        self.rt.block_on(self.client.query(sql, params)).map_err(pg_err)
    }

    /// The regclass text (properly quoted by the server) of a table name as written
    /// in SQL (`users`, `app.orders`, `"MixedCase"`), or as exact parts.
    fn regclass(&self, table: &str) -> Option<String> {
        let q = "SELECT to_regclass($1)::text";
        if let Ok(rows) = self.query(q, &[&table]) {
            if let Some(Some(r)) = rows.first().map(|r| r.get::<_, Option<String>>(0)) {
                return Some(r);
            }
        }
        // Exact-case parts: `MixedCase` written without quotes in a finding.
        let quoted = table
            .split('.')
            .map(|p| format!("\"{}\"", p.trim_matches('"').replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(".");
        self.query(q, &[&quoted])
            .ok()?
            .first()
            .and_then(|r| r.get::<_, Option<String>>(0))
    }

    fn tables_query(&self, with_sizes: bool) -> anyhow::Result<Vec<tokio_postgres::Row>> {
        // The fallback also avoids pg_partition_tree (PostgreSQL 12+).
        let (size, rows) = if with_sizes {
            (
                "CASE WHEN c.relkind = 'p' THEN (SELECT sum(pg_total_relation_size(t.relid))::bigint FROM pg_partition_tree(c.oid) t) \
                 ELSE pg_total_relation_size(c.oid) END",
                "CASE WHEN c.relkind = 'p' THEN (SELECT sum(greatest(pc.reltuples, 0))::float8 FROM pg_partition_tree(c.oid) t \
                 JOIN pg_class pc ON pc.oid = t.relid WHERE t.isleaf) ELSE c.reltuples::float8 END",
            )
        } else {
            ("NULL::bigint", "c.reltuples::float8")
        };
        let sql = format!(
            "SELECT n.nspname::text, c.relname::text, \
               {rows}, \
               COALESCE(s.n_live_tup, -1)::bigint, \
               {size}, \
               n.nspname = ANY (current_schemas(false)), \
               c.oid::regclass::text \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid \
             WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition \
               AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
               AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' \
               AND n.nspname <> 'dbguard' \
             ORDER BY 6 DESC, 1, 2"
        );
        self.query(&sql, &[])
    }

    fn count_with_timeout(&self, regclass: &str, timeout: Duration) -> Option<i64> {
        let ms = timeout.as_millis().clamp(1, i32::MAX as u128);
        let fut = async {
            let tx_sql = format!("BEGIN READ ONLY; SET LOCAL statement_timeout = {ms}");
            self.client.batch_execute(&tx_sql).await?;
            // regclass text comes from the server, already quoted.
            let r = self
                .client
                .query_one(&format!("SELECT count(*) FROM {regclass}"), &[])
                .await;
            let _ = self.client.batch_execute("ROLLBACK").await;
            r.map(|row| row.get::<_, i64>(0))
        };
        self.rt.block_on(fut).ok()
    }
}

impl Database for PgDb {
    fn engine(&self) -> Engine {
        Engine::Postgres
    }

    fn server_info(&mut self) -> anyhow::Result<ServerInfo> {
        let rows = self.query(
            "SELECT current_setting('server_version'), current_database()::text, current_user::text",
            &[],
        )?;
        let row = rows
            .first()
            .ok_or_else(|| anyhow!("no answer to the server version query"))?;
        let version: String = row.get(0);
        // "16.4 (Debian 16.4-1.pgdg120+1)" -> "16.4"
        let version = version.split_whitespace().next().unwrap_or(&version).to_string();
        Ok(ServerInfo {
            engine: "postgresql".into(),
            version,
            database: row.get(1),
            user: Some(row.get(2)),
        })
    }

    fn search_path(&mut self) -> anyhow::Result<Option<SearchPath>> {
        let rows = self.query(
            "SELECT current_setting('search_path'), current_schemas(false)::text[]",
            &[],
        )?;
        let row = rows
            .first()
            .ok_or_else(|| anyhow!("no answer to the search_path query"))?;
        Ok(Some(SearchPath {
            setting: row.get(0),
            effective: row.get(1),
        }))
    }

    fn tables(&mut self, exact: Option<Duration>) -> anyhow::Result<Vec<TableInfo>> {
        // Sizes need a lock on each table; without them, a locked table cannot stall us.
        let rows = match self.tables_query(true) {
            Ok(r) => r,
            Err(_) => self.tables_query(false)?,
        };
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let reltuples: Option<f64> = r.get(2);
            let live: i64 = r.get(3);
            // reltuples = -1: never vacuumed/analyzed; fall back to the statistics collector.
            let estimate = match reltuples {
                Some(t) if t >= 0.0 => Some(t.round() as i64),
                _ if live > 0 => Some(live),
                _ => None,
            };
            let regclass: String = r.get(6);
            let (rows_n, rows_exact) = match exact {
                Some(t) => match self.count_with_timeout(&regclass, t) {
                    Some(n) => (Some(n), true),
                    None => (estimate, false),
                },
                None => (estimate, false),
            };
            out.push(TableInfo {
                schema: r.get(0),
                name: r.get(1),
                rows: rows_n,
                rows_exact,
                bytes: r.get(4),
                in_search_path: r.get(5),
            });
        }
        Ok(out)
    }

    fn migrations(&mut self) -> anyhow::Result<Vec<MigrationInfo>> {
        let names: Vec<String> = migration_table_names().iter().map(|s| s.to_string()).collect();
        let rows = self.query(
            "SELECT n.nspname::text, c.relname::text, c.oid::regclass::text FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p') AND c.relname = ANY ($1) ORDER BY 1, 2",
            &[&names],
        )?;
        let mut out = Vec::new();
        for r in rows {
            let (schema, name, regclass): (String, String, String) = (r.get(0), r.get(1), r.get(2));
            let applied = self
                .query(&format!("SELECT count(*) FROM {regclass}"), &[])
                .ok()
                .and_then(|r| r.first().map(|r| r.get::<_, i64>(0)));
            let mut info = MigrationInfo {
                tool: String::new(),
                table: format!("{schema}.{name}"),
                applied,
                last: None,
                last_at: None,
                failed: None,
                error: None,
            };
            let mut last_error = None;
            for spec in MIGRATION_SPECS.iter().filter(|s| s.table == name) {
                match self.query(&spec.last.replace("{t}", &regclass), &[]) {
                    Ok(rows) => {
                        info.tool = spec.tool.into();
                        if let Some(row) = rows.first() {
                            info.last = row.get(0);
                            info.last_at = humanize_millis(spec.tool, row.get(1));
                        }
                        if let Some(f) = spec.failed {
                            info.failed = self
                                .query(&f.replace("{t}", &regclass), &[])
                                .ok()
                                .and_then(|r| r.first().map(|r| r.get::<_, i64>(0)));
                        }
                        last_error = None;
                        break;
                    }
                    Err(e) => {
                        info.tool = spec.tool.into();
                        last_error = Some(e.to_string());
                    }
                }
            }
            if name == "migrations" && last_error.is_some() {
                // A table called `migrations` that is neither Laravel's nor TypeORM's: not ours to report.
                continue;
            }
            info.error = last_error;
            out.push(info);
        }
        Ok(out)
    }

    fn estimate_rows(&mut self, table: &str) -> Option<i64> {
        let rc = self.regclass(table)?;
        let rows = self
            .query(
                "SELECT c.reltuples::float8, COALESCE(s.n_live_tup, -1)::bigint FROM pg_class c \
                 LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.oid = $1::text::regclass",
                &[&rc],
            )
            .ok()?;
        let row = rows.first()?;
        let t: f64 = row.get(0);
        let live: i64 = row.get(1);
        if t >= 0.0 {
            Some(t.round() as i64)
        } else if live >= 0 {
            Some(live)
        } else {
            None
        }
    }

    fn explain_rows(&mut self, sql: &str) -> Option<i64> {
        let sql = sql.trim().trim_end_matches(';');
        let fut = async {
            // Read-only transaction: even if the text smuggled in ANALYZE, nothing can be written.
            self.client.batch_execute("BEGIN READ ONLY").await?;
            let r = self
                .client
                .query_one(&format!("EXPLAIN (FORMAT JSON) {sql}"), &[])
                .await;
            let _ = self.client.batch_execute("ROLLBACK").await;
            r.and_then(|row| row.try_get::<_, JsonText>(0))
        };
        let text = self.rt.block_on(fut).ok()?;
        plan_rows(&serde_json::from_str(&text.0).ok()?)
    }

    fn exact_rows(&mut self, table: &str, timeout: Duration) -> Option<i64> {
        let rc = self.regclass(table)?;
        self.count_with_timeout(&rc, timeout)
    }

    fn snapshot_clone(&mut self) -> Option<String> {
        let rows = self
            .query(
                "SELECT d.datname::text, COALESCE(shobj_description(d.oid, 'pg_database'), '') FROM pg_database d WHERE d.datname = current_database()",
                &[],
            )
            .ok()?;
        let row = rows.first()?;
        let (name, comment): (String, String) = (row.get(0), row.get(1));
        if comment.starts_with(CLONE_COMMENT_PREFIX) {
            Some(format!("COMMENT ON DATABASE says {comment:?}"))
        } else if name.starts_with(CLONE_PREFIX) {
            Some(format!("its name starts with {CLONE_PREFIX}"))
        } else {
            None
        }
    }

    fn snapshot_clones_on_server(&mut self) -> Option<i64> {
        let like = format!("{}%", CLONE_PREFIX.replace('_', "\\_"));
        let comment = format!("{CLONE_COMMENT_PREFIX}%");
        let rows = self
            .query(
                "SELECT count(*) FROM pg_database WHERE datname LIKE $1 OR COALESCE(shobj_description(oid, 'pg_database'), '') LIKE $2",
                &[&like, &comment],
            )
            .ok()?;
        rows.first().map(|r| r.get::<_, i64>(0))
    }
}

/// A `json` column as text (tokio-postgres only decodes json with an optional feature).
struct JsonText(String);

impl<'a> tokio_postgres::types::FromSql<'a> for JsonText {
    fn from_sql(
        _ty: &tokio_postgres::types::Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(JsonText(std::str::from_utf8(raw)?.to_string()))
    }

    fn accepts(ty: &tokio_postgres::types::Type) -> bool {
        *ty == tokio_postgres::types::Type::JSON
    }
}

/// Rows a statement would touch: the top plan's rows, or for a ModifyTable node
/// (DELETE/UPDATE report 0 rows themselves) the rows of the scan beneath it.
fn plan_rows(plan: &serde_json::Value) -> Option<i64> {
    let top = plan.get(0)?.get("Plan")?;
    let node = if top.get("Node Type").and_then(|t| t.as_str()) == Some("ModifyTable") {
        top.get("Plans").and_then(|p| p.get(0)).unwrap_or(top)
    } else {
        top
    };
    node.get("Plan Rows").and_then(|r| r.as_f64()).map(|r| r.round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_rows_of_modify_table() {
        let plan = serde_json::json!([{"Plan": {"Node Type": "ModifyTable", "Plan Rows": 0, "Plans": [{"Node Type": "Seq Scan", "Plan Rows": 1234}]}}]);
        assert_eq!(plan_rows(&plan), Some(1234));
        let plan = serde_json::json!([{"Plan": {"Node Type": "Seq Scan", "Plan Rows": 7}}]);
        assert_eq!(plan_rows(&plan), Some(7));
        assert_eq!(plan_rows(&serde_json::json!({})), None);
    }

    #[test]
    fn impact_queries_on_a_real_database() {
        let c = testpg::Cluster::shared();
        let db = c.create_db("engine_pg");
        c.psql(
            &db,
            "CREATE TABLE t(id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'x' FROM generate_series(1, 1000) g;
             CREATE TABLE \"Mixed\"(id int); CREATE SCHEMA app; CREATE TABLE app.o(id int); INSERT INTO app.o VALUES (1), (2); ANALYZE;",
        );
        let mut pg = PgDb::connect(&c.url(&db), Duration::from_secs(3)).unwrap();
        assert_eq!(pg.estimate_rows("t"), Some(1000));
        assert_eq!(pg.estimate_rows("public.t"), Some(1000));
        assert_eq!(pg.estimate_rows("Mixed"), Some(0));
        assert_eq!(pg.estimate_rows("app.o"), Some(2));
        assert_eq!(pg.estimate_rows("nope"), None);
        let n = pg.explain_rows("DELETE FROM t WHERE id <= 100;").unwrap();
        assert!((80..=120).contains(&n), "{n}");
        assert_eq!(pg.explain_rows("UPDATE t SET v = 'y'"), Some(1000));
        assert_eq!(pg.explain_rows("EXPLAIN ANALYZE DELETE FROM t"), None);
        assert_eq!(pg.explain_rows("DELETE FROM t; DROP TABLE t"), None);
        assert_eq!(pg.explain_rows("not sql"), None);
        assert_eq!(
            pg.exact_rows("t", Duration::from_secs(5)),
            Some(1000),
            "nothing was deleted or updated"
        );
        assert_eq!(pg.exact_rows("app.o", Duration::from_secs(5)), Some(2));
        assert!(pg.snapshot_clone().is_none());
        // The session is read-only.
        assert!(pg.rt.block_on(pg.client.batch_execute("DELETE FROM t")).is_err());

        let clone = c.create_db("dbguard_snap_x");
        c.psql(
            "postgres",
            &format!("COMMENT ON DATABASE \"{clone}\" IS 'dbguard snapshot 123 of {db}'"),
        );
        let mut pg = PgDb::connect(&c.url(&clone), Duration::from_secs(3)).unwrap();
        assert!(pg.snapshot_clone().unwrap().contains("dbguard snapshot"));
        assert!(pg.snapshot_clones_on_server().unwrap() >= 1);
    }
}
