//! The rehearsal: the pending migrations applied by the project's own tool to a
//! throwaway copy of the target, timed, with the errors the real apply would hit and
//! whether the result matches the schema file. The copy is always dropped.
//!
//! The copy: PostgreSQL `CREATE DATABASE dbguard_scratch_<random> TEMPLATE <target>` on
//! the target's server where allowed (not production, CREATEDB, no other sessions),
//! otherwise a schema-only copy (`pg_dump --schema-only`, plus the history table's rows)
//! in a scratch database (see `scratch.rs`); SQLite: a copy made with the online backup
//! API. Before the tool writes anything, dbguard proves it points at the copy (Prisma:
//! the database `migrate status` reports; drizzle-kit: dbguard's config wrapper).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{anyhow, bail, Context};
use dbguard_core::redact::redact_text;
use dbguard_core::target::Engine;
use serde::Serialize;

use super::catalog::{self, Catalog};
use super::pg::Pg;
use super::scratch::{self, Scratch};
use super::{drift, Migration, Project, ToolKind};
use crate::target::ResolvedTarget;

#[derive(Debug, Clone, Serialize)]
pub struct RehearsedMigration {
    pub name: String,
    /// applied | failed | not_reached | unknown
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SchemaCheck {
    /// The rehearsed database matches what the schema file describes.
    pub matches: bool,
    /// Differences, for people (empty when it matches).
    pub lines: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rehearsal {
    /// How the copy was made.
    pub copy: String,
    pub copy_ms: u64,
    /// The tool applied every pending migration without error.
    pub ok: bool,
    pub exit_code: i32,
    /// The tool's run, whole.
    pub apply_ms: u64,
    pub migrations: Vec<RehearsedMigration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_check: Option<SchemaCheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub total_ms: u64,
}

/// A copy of the target the tool can write to.
enum Copy {
    Pg(Scratch),
    Sqlite { _dir: TempDir, file: PathBuf, url: String },
}

/// A private folder removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Copy {
    fn url(&self) -> &str {
        match self {
            Copy::Pg(s) => &s.url,
            Copy::Sqlite { url, .. } => url,
        }
    }
}

/// Rehearse `pending` (already known to be pending) on a copy of `target`.
///
/// What does not need the copy runs while it is made: the schema file's SQL (Prisma's
/// `migrate diff --from-empty`, `drizzle-kit export`) and, for a TEMPLATE copy whose name
/// is chosen up front, the check of which database Prisma connects to.
pub fn rehearse(project: &Project, target: &ResolvedTarget, pending: &[&Migration]) -> anyhow::Result<Rehearsal> {
    let _interrupts = scratch::InterruptGuard::new();
    let t0 = Instant::now();
    let planned = scratch::new_name();
    let planned_url = match target.engine {
        Some(Engine::Postgres) => scratch::clone_url(target, &planned).ok(),
        _ => None,
    };
    std::thread::scope(|scope| -> anyhow::Result<Rehearsal> {
        // With a driver adapter even `diff --from-empty` connects: to the server's maintenance
        // database (read-only; it exists before the copy does), retried on the copy if that fails.
        let maintenance = match target.engine {
            Some(Engine::Postgres) => target
                .url
                .as_deref()
                .and_then(|u| crate::snapshot::pg::with_database(&super::pg::libpq_url(u).0, "postgres").ok()),
            _ => target.url.clone(),
        };
        let schema_sql = scope.spawn(move || schema_sql_for(project, maintenance.as_deref()));
        let early_probe = match (&planned_url, project.tool) {
            (Some(u), ToolKind::Prisma) => {
                let env = super::tool::db_env(project, u)?;
                Some(scope.spawn(move || super::prisma::probe_database(project, &env)))
            }
            _ => None,
        };
        let (copy, how) = make_copy(project, target, &planned)?;
        let copy_ms = t0.elapsed().as_millis() as u64;
        let expected = match &copy {
            Copy::Pg(s) => s.name.clone(),
            Copy::Sqlite { file, .. } => file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
        // Prove the tool points at the copy before it writes anything.
        if project.tool == ToolKind::Prisma {
            let seen = match early_probe {
                Some(h) if expected == planned => h.join().map_err(|_| anyhow!("the probe panicked"))??,
                _ => {
                    let env = super::tool::db_env(project, copy.url())?;
                    super::prisma::probe_database(project, &env)?
                }
            };
            if seen != expected {
                bail!(
                    "pointed at the copy {expected}, Prisma connects to \"{seen}\" instead: the project's prisma.config reads \
the connection from somewhere dbguard does not set (it sets DATABASE_URL and the variables the datasource names). Nothing \
was applied. Make prisma.config read DATABASE_URL (or the datasource's variable)."
                );
            }
        }
        let t1 = Instant::now();
        let out = super::apply_with_tool(project, copy.url(), &[], false)?;
        let apply_ms = t1.elapsed().as_millis() as u64;
        let mut r = Rehearsal {
            copy: how,
            copy_ms,
            ok: out.ok(),
            exit_code: out.exit.code as i32,
            apply_ms,
            migrations: Vec::new(),
            error: (!out.ok()).then(|| out.error_tail(12)),
            schema_check: None,
            note: None,
            total_ms: 0,
        };
        r.migrations = per_migration(project, &copy, pending, out.ok());
        let schema_sql = match schema_sql.join().map_err(|_| anyhow!("the schema export panicked"))? {
            Err(_) if project.tool == ToolKind::Prisma => schema_sql_for(project, Some(copy.url())),
            other => other,
        };
        // The copy's catalog is read now; the copy is dropped while the schema file's
        // schema is built in a scratch database (the two are independent).
        let actual = if r.ok {
            Some(describe_copy(project, &copy))
        } else {
            None
        };
        let dropping = scope.spawn(move || drop_copy(copy));
        if let Some(actual) = actual {
            let compared = schema_sql.and_then(|sql| match sql {
                Some(sql) => schema_check(project, target, actual?, &sql).map(Some),
                None => Ok(None),
            });
            match compared {
                Ok(c) => r.schema_check = c,
                Err(e) => r.note = Some(redact_text(&format!("schema file not compared: {e:#}"))),
            }
        }
        dropping.join().map_err(|_| anyhow!("dropping the copy panicked"))??;
        r.total_ms = t0.elapsed().as_millis() as u64;
        Ok(r)
    })
}

/// The schema file's SQL from nothing, for the comparison after the rehearsal.
fn schema_sql_for(project: &Project, any_url: Option<&str>) -> anyhow::Result<Option<String>> {
    match (project.tool, any_url) {
        (ToolKind::Sql, _) | (_, None) => Ok(None),
        (_, Some(u)) => super::schema_sql(project, u),
    }
}

fn drop_copy(copy: Copy) -> anyhow::Result<()> {
    match copy {
        Copy::Pg(s) => s.finish(),
        other => {
            drop(other);
            Ok(())
        }
    }
}

fn make_copy(project: &Project, target: &ResolvedTarget, name: &str) -> anyhow::Result<(Copy, String)> {
    match target.engine {
        Some(Engine::Sqlite) => sqlite_copy(target),
        Some(Engine::Postgres) => {
            let why = match Scratch::clone_of(target, name)? {
                Ok(s) => {
                    let how = format!("CREATE DATABASE ... TEMPLATE: {}", s.shown);
                    return Ok((Copy::Pg(s), how));
                }
                Err(why) => why,
            };
            let s = schema_only_copy(project, target)?;
            let how = format!("schema-only copy ({why}): {}", s.shown);
            Ok((Copy::Pg(s), how))
        }
        _ => bail!("rehearsals support PostgreSQL and SQLite"),
    }
}

/// The target's schema (and its history table's rows) in a fresh scratch database.
fn schema_only_copy(project: &Project, target: &ResolvedTarget) -> anyhow::Result<Scratch> {
    let url = target.url.as_deref().ok_or_else(|| anyhow!("no connection URL"))?;
    let src = super::pg::libpq_url(url).0;
    let major = Pg::connect(&src)?.major()?;
    let (pg_dump, _, _) = crate::snapshot::pg::find_tool("pg_dump", major)?;
    let dump = |args: &[&str]| -> anyhow::Result<String> {
        let (mut cmd, conn) = crate::snapshot::pg::tool_command(&pg_dump, &src)?;
        cmd.args(["--no-owner", "--no-privileges", "--no-comments"])
            .args(args)
            .args(["-d", &conn]);
        crate::snapshot::pg::run_tool(cmd, "pg_dump (schema-only copy for the rehearsal)")
    };
    let schema_sql = dump(&["--schema-only"])?;
    let history = match &project.history.schema {
        Some(s) => format!("{}.{}", quote(s), quote(&project.history.table)),
        None => quote(&project.history.table),
    };
    let history_rows = dump(&["--data-only", "--inserts", "--table", &history]).unwrap_or_default();
    let scratch = Scratch::create(Some(target), false)?;
    let pg = Pg::connect(&scratch.url)?;
    // Extensions and roles the dump names may be missing on a private cluster: the
    // statements that fail are reported, the copy stays as close as it can.
    pg.batch(&schema_sql).map_err(|e| {
        anyhow!(
            "loading the schema-only copy: {}",
            crate::engine::pg_connect::describe_pg_error(&e)
        )
    })?;
    if !history_rows.trim().is_empty() {
        pg.batch(&history_rows).map_err(|e| {
            anyhow!(
                "loading the history rows into the copy: {}",
                crate::engine::pg_connect::describe_pg_error(&e)
            )
        })?;
    }
    Ok(scratch)
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn sqlite_copy(target: &ResolvedTarget) -> anyhow::Result<(Copy, String)> {
    let src = target.file.as_ref().ok_or_else(|| anyhow!("no SQLite file"))?;
    let mut rnd = [0u8; 6];
    crate::audit::fill_random(&mut rnd);
    let tag: String = rnd.iter().map(|b| format!("{b:02x}")).collect();
    let dir = std::env::temp_dir().join(format!("dbguard-scratch-{}-{tag}", std::process::id()));
    crate::audit::private_dir(&dir)?;
    let file = dir.join(format!("{}{tag}.db", scratch::PREFIX));
    let result = (|| -> anyhow::Result<()> {
        if src.is_file() {
            let from = rusqlite::Connection::open_with_flags(src, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
            let mut to = rusqlite::Connection::open(&file)?;
            let backup = rusqlite::backup::Backup::new(&from, &mut to)?;
            backup.run_to_completion(256, std::time::Duration::from_millis(0), None)?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(e.context("copying the SQLite database with the backup API"));
    }
    let original = target.url.as_deref().unwrap_or("");
    let path = file.display().to_string();
    let lower = original.to_ascii_lowercase();
    let url = if lower.starts_with("file:") {
        format!("file:{path}")
    } else if lower.starts_with("sqlite://") {
        format!("sqlite://{path}")
    } else if lower.starts_with("sqlite:") {
        format!("sqlite:{path}")
    } else {
        path.clone()
    };
    Ok((
        Copy::Sqlite {
            _dir: TempDir(dir),
            file,
            url,
        },
        "SQLite online backup API copy in a private temporary folder".into(),
    ))
}

/// Per-migration timings and errors: Prisma records them in its table; the other tools
/// apply all pending migrations in one go, so only the total is known.
fn per_migration(project: &Project, copy: &Copy, pending: &[&Migration], ok: bool) -> Vec<RehearsedMigration> {
    let fallback = || {
        pending
            .iter()
            .map(|m| RehearsedMigration {
                name: m.name.clone(),
                state: if ok { "applied" } else { "unknown" },
                ms: None,
                error: None,
            })
            .collect()
    };
    if project.tool != ToolKind::Prisma {
        return fallback();
    }
    let rows: Vec<(String, Option<f64>, bool, Option<String>)> = match copy {
        Copy::Pg(s) => {
            let Ok(pg) = Pg::connect(&s.url) else { return fallback() };
            let sql = "SELECT migration_name::text, (extract(epoch FROM finished_at - started_at) * 1000)::float8, \
                       finished_at IS NOT NULL, logs FROM _prisma_migrations";
            match pg.query(sql, &[]) {
                Ok(rows) => rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3))).collect(),
                Err(_) => return fallback(),
            }
        }
        Copy::Sqlite { file, .. } => {
            let Ok(conn) = rusqlite::Connection::open(file) else {
                return fallback();
            };
            let Ok(mut st) = conn.prepare(
                "SELECT migration_name, CAST(finished_at AS REAL) - CAST(started_at AS REAL), finished_at IS NOT NULL, logs FROM _prisma_migrations",
            ) else {
                return fallback();
            };
            st.query_map([], |r| {
                Ok((r.get(0)?, r.get::<_, Option<f64>>(1)?, r.get(2)?, r.get(3)?))
            })
            .map(|it| it.flatten().collect())
            .unwrap_or_default()
        }
    };
    pending
        .iter()
        .map(|m| match rows.iter().find(|r| r.0 == m.name) {
            Some((_, ms, true, _)) => RehearsedMigration {
                name: m.name.clone(),
                state: "applied",
                ms: ms.map(|v| v.max(0.0) as u64),
                error: None,
            },
            Some((_, _, false, logs)) => RehearsedMigration {
                name: m.name.clone(),
                state: "failed",
                ms: None,
                error: logs.as_deref().map(super::status::first_error_line),
            },
            None => RehearsedMigration {
                name: m.name.clone(),
                state: if ok { "unknown" } else { "not_reached" },
                ms: None,
                error: None,
            },
        })
        .collect()
}

/// The catalog of the copy after the rehearsal.
fn describe_copy(project: &Project, copy: &Copy) -> anyhow::Result<(Catalog, bool)> {
    let ex = drift::exclude_for(project);
    match copy {
        Copy::Pg(s) => Ok((catalog::describe_pg(&Pg::connect(&s.url)?, &ex)?, true)),
        Copy::Sqlite { file, .. } => Ok((
            catalog::describe_sqlite(&rusqlite::Connection::open(file)?, &ex)?,
            false,
        )),
    }
}

/// Compare the rehearsed copy (`actual`, and whether it is PostgreSQL) with what the
/// schema file describes (`sql`: the schema built from nothing), built in a scratch
/// database (SQLite: in memory).
fn schema_check(
    project: &Project,
    target: &ResolvedTarget,
    actual: (Catalog, bool),
    sql: &str,
) -> anyhow::Result<SchemaCheck> {
    let ex = drift::exclude_for(project);
    let (actual, postgres) = actual;
    let expected = if postgres {
        let fresh = Scratch::create(Some(target), false)?;
        let pg = Pg::connect(&fresh.url)?;
        drift::prepare_search_path(&pg, project)?;
        pg.batch(sql).map_err(|e| {
            anyhow!(
                "the schema file's SQL does not apply on an empty database: {}",
                crate::engine::pg_connect::describe_pg_error(&e)
            )
        })?;
        let expected = catalog::describe_pg(&pg, &ex)?;
        drop(pg);
        fresh.finish()?;
        expected
    } else {
        let mem = rusqlite::Connection::open_in_memory()?;
        mem.execute_batch(sql)
            .context("the schema file's SQL does not apply on an empty database")?;
        catalog::describe_sqlite(&mem, &ex)?
    };
    let diffs = expected.diff(&actual);
    Ok(SchemaCheck {
        matches: diffs.is_empty(),
        lines: diffs
            .iter()
            .map(|d| d.line("the database after the migrations", "the schema file"))
            .collect(),
    })
}
