//! The history table, read straight from the database (never through the tool's own
//! `status`, which detects no drift and calls a database with migrations the folder lacks
//! "up to date"). Read-only.

use anyhow::{anyhow, Context};
use serde::Serialize;

use super::pg::Pg;
use super::{Project, ToolKind};
use crate::snapshot::pg::{qualified, quote_ident};

/// One row of the history table.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Applied {
    /// Prisma: migration_name; Drizzle: the hash; plain: the version.
    pub name: String,
    /// SHA-256 of the file as applied (Prisma, Drizzle).
    pub checksum: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub rolled_back_at: Option<String>,
    /// Prisma's error log for a failed migration.
    pub logs: Option<String>,
    /// Drizzle: `created_at`, the journal `when` of the migration applied.
    pub created_at: Option<i64>,
}

impl Applied {
    /// Prisma's notion of a failed migration: started, neither finished nor rolled back.
    pub fn failed(&self) -> bool {
        self.finished_at.is_none() && self.rolled_back_at.is_none()
    }
}

/// What the database says.
#[derive(Debug, Clone, Serialize, Default)]
pub struct History {
    /// The history table exists.
    pub exists: bool,
    pub rows: Vec<Applied>,
    /// User tables in the database besides the history table (baseline needs some).
    pub user_tables: i64,
}

/// Read the history of `project` on the database at `url` (PostgreSQL) or `file` (SQLite).
pub fn read(project: &Project, db: &super::status::Db) -> anyhow::Result<History> {
    match db {
        super::status::Db::Pg(pg) => read_pg(project, pg),
        super::status::Db::Sqlite(conn) => read_sqlite(project, conn),
    }
}

fn pg_table(project: &Project, pg: &Pg) -> anyhow::Result<Option<(String, String)>> {
    let h = &project.history;
    let row = match &h.schema {
        Some(s) => pg.query_opt(
            "SELECT n.nspname::text, c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')",
            &[s, &h.table],
        )?,
        None => pg.query_opt(
            "SELECT n.nspname::text, c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relname = $1 AND c.relkind IN ('r', 'p') AND n.nspname = ANY (current_schemas(false)) \
             ORDER BY array_position(current_schemas(false), n.nspname) LIMIT 1",
            &[&h.table],
        )?,
    };
    Ok(row.map(|r| (r.get(0), r.get(1))))
}

fn read_pg(project: &Project, pg: &Pg) -> anyhow::Result<History> {
    let table = pg_table(project, pg).context("looking for the history table")?;
    let mut h = History::default();
    let except: Vec<String> = table.iter().map(|(s, t)| format!("{s}.{t}")).collect();
    h.user_tables = pg.table_count(&except)?;
    let Some((schema, name)) = table else {
        return Ok(h);
    };
    h.exists = true;
    let t = qualified(&schema, &name);
    let err = |e: anyhow::Error| anyhow!("reading {schema}.{name}: {e:#}");
    match project.tool {
        ToolKind::Prisma => {
            let rows = pg
                .query(
                    &format!(
                        "SELECT migration_name::text, checksum::text, started_at::text, finished_at::text, \
                         rolled_back_at::text, logs FROM {t} ORDER BY started_at, migration_name"
                    ),
                    &[],
                )
                .map_err(err)?;
            h.rows = rows
                .iter()
                .map(|r| Applied {
                    name: r.get(0),
                    checksum: r.get(1),
                    started_at: r.get(2),
                    finished_at: r.get(3),
                    rolled_back_at: r.get(4),
                    logs: r.get(5),
                    created_at: None,
                })
                .collect();
        }
        ToolKind::Drizzle => {
            let rows = pg
                .query(
                    &format!("SELECT hash::text, created_at::bigint FROM {t} ORDER BY created_at, id"),
                    &[],
                )
                .map_err(err)?;
            h.rows = rows
                .iter()
                .map(|r| {
                    let hash: String = r.get(0);
                    Applied {
                        name: hash.clone(),
                        checksum: Some(hash),
                        finished_at: Some(String::new()),
                        created_at: r.get(1),
                        ..Applied::default()
                    }
                })
                .collect();
        }
        ToolKind::Sql => {
            let col = quote_ident(&project.history.column);
            let rows = pg
                .query(&format!("SELECT CAST({col} AS text) FROM {t} ORDER BY 1"), &[])
                .map_err(err)?;
            h.rows = rows
                .iter()
                .map(|r| Applied {
                    name: r.get::<_, Option<String>>(0).unwrap_or_default(),
                    finished_at: Some(String::new()),
                    ..Applied::default()
                })
                .collect();
        }
    }
    Ok(h)
}

fn read_sqlite(project: &Project, conn: &rusqlite::Connection) -> anyhow::Result<History> {
    let name = &project.history.table;
    let mut h = History::default();
    let exists: bool = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [name],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n > 0)?;
    h.user_tables = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> ?1",
        [name],
        |r| r.get(0),
    )?;
    if !exists {
        return Ok(h);
    }
    h.exists = true;
    let t = quote_ident(name);
    let err = |e: rusqlite::Error| anyhow!("reading {name}: {e}");
    match project.tool {
        ToolKind::Prisma => {
            let mut st = conn
                .prepare(&format!(
                    "SELECT migration_name, checksum, CAST(started_at AS TEXT), CAST(finished_at AS TEXT), \
                     CAST(rolled_back_at AS TEXT), logs FROM {t} ORDER BY started_at, migration_name"
                ))
                .map_err(err)?;
            h.rows = st
                .query_map([], |r| {
                    Ok(Applied {
                        name: r.get(0)?,
                        checksum: r.get(1)?,
                        started_at: r.get(2)?,
                        finished_at: r.get(3)?,
                        rolled_back_at: r.get(4)?,
                        logs: r.get(5)?,
                        created_at: None,
                    })
                })
                .map_err(err)?
                .collect::<Result<_, _>>()
                .map_err(err)?;
        }
        ToolKind::Drizzle => {
            let mut st = conn
                .prepare(&format!(
                    "SELECT hash, CAST(created_at AS INTEGER) FROM {t} ORDER BY created_at, id"
                ))
                .map_err(err)?;
            h.rows = st
                .query_map([], |r| {
                    let hash: String = r.get(0)?;
                    Ok(Applied {
                        name: hash.clone(),
                        checksum: Some(hash),
                        finished_at: Some(String::new()),
                        created_at: r.get(1)?,
                        ..Applied::default()
                    })
                })
                .map_err(err)?
                .collect::<Result<_, _>>()
                .map_err(err)?;
        }
        ToolKind::Sql => {
            let col = quote_ident(&project.history.column);
            let mut st = conn
                .prepare(&format!("SELECT CAST({col} AS TEXT) FROM {t} ORDER BY 1"))
                .map_err(err)?;
            h.rows = st
                .query_map([], |r| {
                    Ok(Applied {
                        name: r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                        finished_at: Some(String::new()),
                        ..Applied::default()
                    })
                })
                .map_err(err)?
                .collect::<Result<_, _>>()
                .map_err(err)?;
        }
    }
    Ok(h)
}
