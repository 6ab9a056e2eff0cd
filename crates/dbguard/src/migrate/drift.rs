//! Drift: does the live schema match what the applied migrations produce?
//!
//! The expected schema is the catalog of a scratch database (an in-memory one for SQLite)
//! after the applied migration files ran on it, in order. It depends only on those files
//! and the server's major version, so it is cached under `<data dir>/migrate-cache/`,
//! keyed by a hash of both: the first check of a given history pays for a scratch
//! database, the next ones read one small file. The live side is always read fresh.

use std::path::PathBuf;

use anyhow::{anyhow, Context};
use dbguard_core::redact::redact_text;
use serde::Serialize;

use super::catalog::{self, Catalog, Difference, Exclude};
use super::pg::Pg;
use super::scratch::Scratch;
use super::status::Db;
use super::{Migration, Project, ToolKind};
use crate::target::ResolvedTarget;

#[derive(Debug, Clone, Serialize)]
pub struct DriftReport {
    /// The comparison was made (else `note` says why not).
    pub checked: bool,
    /// Empty when the schemas match.
    pub differences: Vec<Difference>,
    /// Lines for people.
    pub lines: Vec<String>,
    /// The expected schema came from the cache.
    pub cached: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl DriftReport {
    pub fn drifted(&self) -> bool {
        self.checked && !self.differences.is_empty()
    }

    fn unknown(note: String) -> DriftReport {
        DriftReport {
            checked: false,
            differences: Vec::new(),
            lines: Vec::new(),
            cached: false,
            note: Some(redact_text(&note)),
        }
    }
}

/// What the catalogs leave out for this project: its history table.
pub fn exclude_for(project: &Project) -> Exclude {
    let mut ex = Exclude::default();
    match project.tool {
        ToolKind::Drizzle => match &project.history.schema {
            Some(s) if s != "public" => ex.schemas.push(s.clone()),
            _ => ex.tables.push(project.history.table.clone()),
        },
        _ => ex.tables.push(project.history.table.clone()),
    }
    ex
}

/// Compare the live database with what `applied` produce.
pub fn check(project: &Project, target: &ResolvedTarget, db: &Db, applied: &[&Migration]) -> DriftReport {
    let ex = exclude_for(project);
    let live = match db {
        Db::Pg(pg) => catalog::describe_pg(pg, &ex),
        Db::Sqlite(conn) => catalog::describe_sqlite(conn, &ex),
    };
    let live = match live {
        Ok(l) => l,
        Err(e) => return DriftReport::unknown(format!("drift not checked: reading the live schema failed: {e:#}")),
    };
    let major = match db {
        Db::Pg(pg) => pg.major().ok(),
        Db::Sqlite(_) => None,
    };
    let expected = expected_catalog(project, target, db, major, applied, &ex);
    let (expected, cached) = match expected {
        Ok(x) => x,
        Err(e) => return DriftReport::unknown(format!("drift not checked: {e:#}")),
    };
    let differences = expected.diff(&live);
    let lines = differences
        .iter()
        .map(|d| d.line("the database", "the applied migrations"))
        .collect();
    DriftReport {
        checked: true,
        differences,
        lines,
        cached,
        note: None,
    }
}

fn cache_key(project: &Project, db: &Db, major: Option<u32>, applied: &[&Migration]) -> String {
    let mut h = blake3::Hasher::new();
    h.update(b"dbguard-expected-v1\0");
    h.update(match db {
        Db::Pg(_) => b"postgres",
        Db::Sqlite(_) => b"sqlite\0\0",
    });
    h.update(format!("{major:?}\0{:?}\0", project.history.schema).as_bytes());
    for m in applied {
        h.update(m.name.as_bytes());
        h.update(b"\0");
        h.update(m.up_sql.as_bytes());
        h.update(b"\0");
    }
    h.finalize().to_hex()[..32].to_string()
}

fn cache_path(key: &str) -> PathBuf {
    crate::config::data_dir()
        .join("migrate-cache")
        .join(format!("expected-{key}.json"))
}

/// The catalog the applied migrations produce, from the cache or a scratch database.
fn expected_catalog(
    project: &Project,
    target: &ResolvedTarget,
    db: &Db,
    major: Option<u32>,
    applied: &[&Migration],
    ex: &Exclude,
) -> anyhow::Result<(Catalog, bool)> {
    let key = cache_key(project, db, major, applied);
    let path = cache_path(&key);
    if let Ok(text) = std::fs::read_to_string(&path) {
        if let Ok(c) = serde_json::from_str::<Catalog>(&text) {
            return Ok((c, true));
        }
    }
    let c = match db {
        Db::Sqlite(_) => {
            let conn = rusqlite::Connection::open_in_memory()?;
            for m in applied {
                conn.execute_batch(&m.up_sql)
                    .map_err(|e| anyhow!("{} does not apply on an empty database: {e}", m.name))?;
            }
            catalog::describe_sqlite(&conn, ex)?
        }
        Db::Pg(_) => {
            let scratch = Scratch::create(Some(target), false).context("making a scratch database")?;
            let c = apply_and_describe(&scratch, project, applied, ex)?;
            scratch.finish()?;
            c
        }
    };
    // The cache is an optimization: failing to write it changes nothing.
    if let Some(dir) = path.parent() {
        if crate::audit::private_dir(dir).is_ok() {
            if let Ok(text) = serde_json::to_string(&c) {
                let tmp = path.with_extension(format!("tmp{}", std::process::id()));
                if std::fs::write(&tmp, text).is_ok() {
                    let _ = std::fs::rename(&tmp, &path);
                }
            }
        }
    }
    Ok((c, false))
}

/// Run `files` on a scratch database, in order, and describe the result.
pub fn apply_and_describe(
    scratch: &Scratch,
    project: &Project,
    files: &[&Migration],
    ex: &Exclude,
) -> anyhow::Result<Catalog> {
    let pg = Pg::connect(&scratch.url)?;
    // A scratch database needs no durability: commits do not wait for the disk.
    pg.exec("SET synchronous_commit TO off")?;
    prepare_search_path(&pg, project)?;
    for m in files {
        super::scratch::check_interrupted()?;
        pg.batch(&m.up_sql).map_err(|e| {
            anyhow!(
                "{} does not apply on an empty database: {}",
                m.name,
                crate::engine::pg_connect::describe_pg_error(&e)
            )
        })?;
    }
    catalog::describe_pg(&pg, ex)
}

/// Prisma's `?schema=x`: its migrations run with `search_path` set to x.
pub fn prepare_search_path(pg: &Pg, project: &Project) -> anyhow::Result<()> {
    if project.tool == ToolKind::Prisma {
        if let Some(s) = project.history.schema.as_deref().filter(|s| *s != "public") {
            let q = crate::snapshot::pg::quote_ident(s);
            pg.exec(&format!("CREATE SCHEMA IF NOT EXISTS {q}; SET search_path TO {q}"))?;
        }
    }
    Ok(())
}
