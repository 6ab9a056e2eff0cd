//! The in-database guard (`dbguard protect`, issue 10): PostgreSQL itself refuses
//! destructive statements from any client, whatever door they came through.
//!
//! The guard is SQL, kept as versioned files under `crates/dbguard/sql/guard/` (tests run
//! them directly with psql) and embedded here: an event trigger on `sql_drop` (DROP of
//! tables, schemas, materialized views, columns), statement triggers on every table
//! (TRUNCATE; DELETE/UPDATE of too many rows), an event trigger on `ddl_command_end` (new
//! tables get the triggers; disabling them is refused), a table of blocked attempts and a
//! table of approvals. This module installs, upgrades, inspects and removes it
//! (`install`, `status`), reads the attempts (`attempts`), and is the database side of
//! approvals (`approval`), which `run`, `migrate apply` and the proxy use.

pub mod approval;
pub mod attempts;
pub mod install;
pub mod status;

use std::time::Duration;

use anyhow::anyhow;
use tokio_postgres::Client;

use crate::engine::pg_connect::{self, describe_pg_error};

/// The guard version this dbguard installs.
pub const VERSION: i32 = 1;

/// The SQL of the current version.
pub const INSTALL_SQL: &str = include_str!("../../sql/guard/v1/install.sql");
pub const UNINSTALL_SQL: &str = include_str!("../../sql/guard/v1/uninstall.sql");
pub const STATUS_SQL: &str = include_str!("../../sql/guard/v1/status.sql");
/// What is left of any guard version (after an uninstall: all zeros).
pub const LEFTOVERS_SQL: &str = include_str!("../../sql/guard/leftovers.sql");

/// Steps that move an older guard's tables to the current layout, run before `INSTALL_SQL`
/// by `--upgrade`: `(from_version, sql)`, oldest first. Empty while version 1 is the only one;
/// a version 2 adds `(1, include_str!("../../sql/guard/v2/from_v1.sql"))` here.
pub const UPGRADE_STEPS: &[(i32, &str)] = &[];

/// How long `protect` waits for a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// One connection for one command, on its own small runtime.
pub struct Session {
    pub rt: tokio::runtime::Runtime,
    pub client: Client,
}

impl Session {
    pub fn connect(url: &str, timeout: Duration) -> anyhow::Result<Session> {
        let rt = pg_connect::runtime()?;
        let client = rt.block_on(pg_connect::connect(url, timeout))?;
        Ok(Session { rt, client })
    }

    pub fn batch(&self, sql: &str) -> anyhow::Result<()> {
        self.rt.block_on(self.client.batch_execute(sql)).map_err(pg_error)
    }

    pub fn query(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> anyhow::Result<Vec<tokio_postgres::Row>> {
        self.rt.block_on(self.client.query(sql, params)).map_err(pg_error)
    }

    /// The installed guard's version; None when there is none.
    pub fn installed_version(&self) -> anyhow::Result<Option<i32>> {
        let exists = self.query("SELECT to_regclass('dbguard.installation') IS NOT NULL", &[])?;
        if !exists.first().is_some_and(|r| r.get::<_, bool>(0)) {
            return Ok(None);
        }
        let rows = self.query("SELECT version FROM dbguard.installation", &[])?;
        Ok(rows.first().map(|r| r.get::<_, i32>(0)))
    }
}

/// A server error as one readable line: the message, and the hint when there is one.
pub fn pg_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.hint() {
            Some(h) => format!("{} ({h})", db.message()),
            None => db.message().to_string(),
        },
        None => describe_pg_error(e),
    }
}

pub fn pg_error(e: tokio_postgres::Error) -> anyhow::Error {
    anyhow!(pg_message(&e))
}

/// The SQLSTATE of an error chain's server error, if any.
pub fn sqlstate(e: &tokio_postgres::Error) -> Option<String> {
    e.as_db_error().map(|d| d.code().code().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sql_is_embedded_and_versioned() {
        assert!(INSTALL_SQL.contains("INSERT INTO dbguard.installation (version) VALUES (1)"));
        assert!(INSTALL_SQL.contains(&format!("installed > {VERSION}")));
        assert!(UNINSTALL_SQL.contains("DROP SCHEMA dbguard CASCADE"));
        assert!(STATUS_SQL.contains("json_build_object"));
        // Every upgrade step starts from an older version, in order.
        let mut last = 0;
        for (from, _) in UPGRADE_STEPS {
            assert!(*from > last && *from < VERSION);
            last = *from;
        }
    }
}
