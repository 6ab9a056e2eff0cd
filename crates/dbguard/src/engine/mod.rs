//! Database engines behind one small interface (PostgreSQL, SQLite; MySQL later).
//! `pg_connect` holds the one way dbguard opens a PostgreSQL connection.
//!
//! The interface is synchronous: SQLite is blocking (rusqlite) and PostgreSQL runs on
//! a current-thread tokio runtime owned by the connection, so callers need no async.
//! Every implementation is read-only: it inspects, never changes, the database.
//! Adding MySQL means one more implementation of [`Database`] and a line in [`open`].

pub mod pg_connect;
pub mod pg_tls;
pub mod postgres;
pub mod sqlite;

use std::time::Duration;

use anyhow::bail;
use dbguard_core::redact::redact_url;
use dbguard_core::target::Engine;
use serde::Serialize;

use crate::target::ResolvedTarget;

/// Databases created by dbguard's snapshot clones are named with this prefix...
pub const CLONE_PREFIX: &str = "dbguard_snap_";
/// ...and carry a `COMMENT ON DATABASE` starting with this.
pub const CLONE_COMMENT_PREFIX: &str = "dbguard snapshot";

#[allow(dead_code)] // for the snapshot code and `status` of other databases
/// Is this database name one of dbguard's snapshot clones?
pub fn is_clone_name(name: &str) -> bool {
    name.starts_with(CLONE_PREFIX)
}

/// Who and where we are connected.
#[derive(Debug, Clone, Serialize)]
pub struct ServerInfo {
    /// "postgresql", "sqlite".
    pub engine: String,
    /// "16.4", "3.46.0".
    pub version: String,
    /// Current database (SQLite: the file path).
    pub database: String,
    pub user: Option<String>,
}

/// PostgreSQL's search_path.
#[derive(Debug, Clone, Serialize)]
pub struct SearchPath {
    /// As set (`"$user", public`).
    pub setting: String,
    /// Existing schemas it resolves to (`current_schemas(false)`).
    pub effective: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TableInfo {
    /// Schema (SQLite: `main`).
    pub schema: String,
    pub name: String,
    /// Row count: an estimate unless `rows_exact`; None when unknown.
    pub rows: Option<i64>,
    pub rows_exact: bool,
    /// Table + indexes + TOAST, bytes.
    pub bytes: Option<i64>,
    /// Visible through the search_path without a schema prefix (always true for SQLite).
    pub in_search_path: bool,
}

impl TableInfo {
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct MigrationInfo {
    /// prisma, drizzle, rails, django, laravel, typeorm, knex, sequelize, flyway, alembic, sqlx, diesel, goose.
    pub tool: String,
    /// schema.table.
    pub table: String,
    /// Entries recorded.
    pub applied: Option<i64>,
    /// Name/version of the last applied migration.
    pub last: Option<String>,
    /// When it was applied, as the database stores it.
    pub last_at: Option<String>,
    /// Failed or unfinished entries (Prisma, Flyway, sqlx).
    pub failed: Option<i64>,
    /// Why the last entry could not be read.
    pub error: Option<String>,
}

/// One open, read-only database connection.
// Part of the API is for `lint --url` (impact) and later doors: allowed while unused.
#[allow(dead_code)]
pub trait Database {
    fn engine(&self) -> Engine;
    /// Engine, version, current database and user.
    fn server_info(&mut self) -> anyhow::Result<ServerInfo>;
    /// PostgreSQL's search_path; None for engines without one.
    fn search_path(&mut self) -> anyhow::Result<Option<SearchPath>>;
    /// User tables. Row counts are estimates unless `exact` is given (the per-table
    /// statement timeout for exact counts); a count that times out stays an estimate.
    fn tables(&mut self, exact: Option<Duration>) -> anyhow::Result<Vec<TableInfo>>;
    /// Migration tables of the known tools, with their last entry.
    fn migrations(&mut self) -> anyhow::Result<Vec<MigrationInfo>>;
    /// Planner estimate of a table's rows (`pg_class.reltuples`); None when unknown or no such table.
    fn estimate_rows(&mut self, table: &str) -> Option<i64>;
    /// Planner estimate of the rows a DELETE/UPDATE would touch, from `EXPLAIN (FORMAT JSON)`
    /// in a read-only transaction: the statement is never executed.
    fn explain_rows(&mut self, sql: &str) -> Option<i64>;
    /// `count(*)` under a statement timeout; None on timeout or error.
    fn exact_rows(&mut self, table: &str, timeout: Duration) -> Option<i64>;
    /// When the connected database is one of dbguard's snapshot clones: why we think so.
    fn snapshot_clone(&mut self) -> Option<String>;
    /// How many snapshot clones live on the same server (PostgreSQL), for status.
    fn snapshot_clones_on_server(&mut self) -> Option<i64> {
        None
    }
}

/// Open the resolved target read-only, within `timeout`.
pub fn open(target: &ResolvedTarget, timeout: Duration) -> anyhow::Result<Box<dyn Database>> {
    let shown = target.display.clone().unwrap_or_else(|| "(no database)".into());
    match target.engine {
        Some(Engine::Sqlite) => {
            let Some(file) = &target.file else {
                bail!("cannot tell which SQLite file {shown} names")
            };
            Ok(Box::new(sqlite::SqliteDb::open(file, timeout)?))
        }
        Some(Engine::Postgres) => {
            let Some(url) = &target.url else {
                bail!("no connection URL")
            };
            if url.to_ascii_lowercase().starts_with("prisma+postgres://") {
                bail!(
                    "{} goes through Prisma Accelerate; pass the direct database URL with --url",
                    redact_url(url)
                );
            }
            Ok(Box::new(postgres::PgDb::connect(url, timeout)?))
        }
        Some(Engine::Mysql) => bail!("MySQL/MariaDB is not supported yet ({shown})"),
        Some(other) => bail!("{other:?} databases are not supported ({shown})"),
        None => bail!(
            "cannot tell which database engine {shown} is (expected postgres://, postgresql:// or an SQLite file)"
        ),
    }
}

/// Known migration tables: (table name, tool, SQL for (last, last_at), SQL for failed count).
/// `{t}` is replaced by the quoted table. The SQL is valid in PostgreSQL and SQLite.
pub(crate) struct MigrationSpec {
    pub table: &'static str,
    pub tool: &'static str,
    pub last: &'static str,
    pub failed: Option<&'static str>,
}

pub(crate) const MIGRATION_SPECS: &[MigrationSpec] = &[
    MigrationSpec {
        table: "_prisma_migrations",
        tool: "prisma",
        last: "SELECT migration_name, CAST(finished_at AS TEXT) FROM {t} WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY finished_at DESC LIMIT 1",
        failed: Some("SELECT count(*) FROM {t} WHERE finished_at IS NULL AND rolled_back_at IS NULL"),
    },
    MigrationSpec {
        table: "__drizzle_migrations",
        tool: "drizzle",
        last: "SELECT hash, CAST(created_at AS TEXT) FROM {t} ORDER BY created_at DESC LIMIT 1",
        failed: None,
    },
    MigrationSpec {
        table: "schema_migrations",
        tool: "rails",
        last: "SELECT CAST(version AS TEXT), CAST(NULL AS TEXT) FROM {t} ORDER BY version DESC LIMIT 1",
        failed: None,
    },
    MigrationSpec {
        table: "django_migrations",
        tool: "django",
        last: "SELECT app || '.' || name, CAST(applied AS TEXT) FROM {t} ORDER BY applied DESC, id DESC LIMIT 1",
        failed: None,
    },
    MigrationSpec {
        table: "migrations",
        tool: "laravel",
        last: "SELECT migration, 'batch ' || CAST(batch AS TEXT) FROM {t} ORDER BY id DESC LIMIT 1",
        failed: None,
    },
    // Same table name, TypeORM's columns: tried when the Laravel query fails.
    MigrationSpec {
        table: "migrations",
        tool: "typeorm",
        last: "SELECT name, CAST(timestamp AS TEXT) FROM {t} ORDER BY id DESC LIMIT 1",
        failed: None,
    },
    MigrationSpec {
        table: "typeorm_migrations",
        tool: "typeorm",
        last: "SELECT name, CAST(timestamp AS TEXT) FROM {t} ORDER BY id DESC LIMIT 1",
        failed: None,
    },
    MigrationSpec {
        table: "knex_migrations",
        tool: "knex",
        last: "SELECT name, CAST(migration_time AS TEXT) FROM {t} ORDER BY id DESC LIMIT 1",
        failed: None,
    },
    MigrationSpec {
        table: "SequelizeMeta",
        tool: "sequelize",
        last: "SELECT name, CAST(NULL AS TEXT) FROM {t} ORDER BY name DESC LIMIT 1",
        failed: None,
    },
    MigrationSpec {
        table: "flyway_schema_history",
        tool: "flyway",
        last: "SELECT COALESCE(CAST(version AS TEXT), 'R') || ' ' || description, CAST(installed_on AS TEXT) FROM {t} WHERE success ORDER BY installed_rank DESC LIMIT 1",
        failed: Some("SELECT count(*) FROM {t} WHERE NOT success"),
    },
    MigrationSpec {
        table: "alembic_version",
        tool: "alembic",
        last: "SELECT version_num, CAST(NULL AS TEXT) FROM {t} LIMIT 1",
        failed: None,
    },
    MigrationSpec {
        table: "_sqlx_migrations",
        tool: "sqlx",
        last: "SELECT CAST(version AS TEXT) || ' ' || description, CAST(installed_on AS TEXT) FROM {t} WHERE success ORDER BY version DESC LIMIT 1",
        failed: Some("SELECT count(*) FROM {t} WHERE NOT success"),
    },
    MigrationSpec {
        table: "__diesel_schema_migrations",
        tool: "diesel",
        last: "SELECT version, CAST(run_on AS TEXT) FROM {t} ORDER BY version DESC LIMIT 1",
        failed: None,
    },
    MigrationSpec {
        table: "goose_db_version",
        tool: "goose",
        last: "SELECT CAST(version_id AS TEXT), CAST(tstamp AS TEXT) FROM {t} WHERE is_applied ORDER BY id DESC LIMIT 1",
        failed: None,
    },
];

/// Distinct migration table names.
pub(crate) fn migration_table_names() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = MIGRATION_SPECS.iter().map(|s| s.table).collect();
    v.dedup();
    v
}

/// Drizzle stores `created_at` as epoch milliseconds: show a UTC timestamp.
pub(crate) fn humanize_millis(tool: &str, at: Option<String>) -> Option<String> {
    let at = at?;
    if tool != "drizzle" {
        return Some(at);
    }
    match at.trim().parse::<i64>() {
        Ok(ms) if ms > 100_000_000_000 => Some(format_utc(ms / 1000)),
        _ => Some(at),
    }
}

/// `YYYY-MM-DD HH:MM:SS UTC` for Unix seconds (civil-from-days, proleptic Gregorian).
pub fn format_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(
            humanize_millis("drizzle", Some("1700000000000".into())).unwrap(),
            "2023-11-14 22:13:20 UTC"
        );
        assert_eq!(humanize_millis("prisma", Some("x".into())).unwrap(), "x");
    }

    #[test]
    fn clone_names() {
        assert!(is_clone_name("dbguard_snap_app_20240101"));
        assert!(!is_clone_name("app"));
    }
}
