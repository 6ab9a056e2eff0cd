//! `dbguard migrate`: a non-interactive way forward for schema changes, wrapping the
//! project's own migration tool (Prisma, drizzle-kit, or a plain SQL folder with a
//! configured apply command).
//!
//! The pieces, each in its own file:
//! - this file: which tool and folder a project uses, and its migration files;
//! - `prisma.rs`, `drizzle.rs`, `plain.rs`: one adapter per tool (files, history table,
//!   the commands that generate and apply);
//! - `history.rs`: reading the history table straight from the database;
//! - `status.rs`: files + history -> applied, pending, failed, edited, missing, out of
//!   order, with the next step for each (pure);
//! - `scratch.rs`: throwaway databases (never on production, dropped even on failure or
//!   Ctrl-C), `catalog.rs` + `drift.rs`: the live schema against what the applied
//!   migrations produce, `rehearse.rs`: pending migrations applied by the tool to a copy;
//! - `tool.rs`: running the user's tool, pointed at the right database.
//!
//! dbguard never writes schema DDL of its own to the user's database and never runs
//! `migrate dev`, `migrate reset` or `db push` against it.

pub mod apply;
pub mod baseline;
pub mod catalog;
pub mod check;
pub mod ctx;
pub mod doors;
pub mod drift;
pub mod drizzle;
pub mod generate;
pub mod history;
pub mod pg;
pub mod plain;
pub mod planner;
pub mod prisma;
pub mod rehearse;
pub mod scratch;
pub mod status;
pub mod tool;

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail};
use dbguard_core::target::Engine;
use dbguard_core::Dialect;
use serde::Serialize;

use crate::config::Config;
use crate::target::ResolvedTarget;

/// The migration tool a project uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolKind {
    Prisma,
    Drizzle,
    /// A folder of `.sql` files (dbmate's `-- migrate:up` sections understood) applied by a
    /// command configured in dbguard.toml.
    Sql,
}

impl ToolKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ToolKind::Prisma => "prisma",
            ToolKind::Drizzle => "drizzle",
            ToolKind::Sql => "sql",
        }
    }

    /// The program name the shell recognizers and target resolution use.
    pub fn program(self) -> Option<&'static str> {
        match self {
            ToolKind::Prisma => Some("prisma"),
            ToolKind::Drizzle => Some("drizzle-kit"),
            ToolKind::Sql => None,
        }
    }
}

/// Where the tool records what it applied.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryTable {
    /// None: the connection's default (search_path; SQLite: main).
    pub schema: Option<String>,
    pub table: String,
    /// Plain SQL: the column holding versions.
    pub column: String,
}

impl HistoryTable {
    pub fn display(&self) -> String {
        match &self.schema {
            Some(s) => format!("{s}.{}", self.table),
            None => self.table.clone(),
        }
    }
}

/// A project's migrations setup.
#[derive(Debug, Clone, Serialize)]
pub struct Project {
    pub tool: ToolKind,
    /// The working directory (where the tool runs).
    pub root: PathBuf,
    /// The migrations folder (it may not exist yet).
    pub dir: PathBuf,
    /// Prisma: schema.prisma; Drizzle: the config file.
    pub schema: Option<PathBuf>,
    pub config_file: Option<PathBuf>,
    /// Prisma's datasource provider; drizzle's dialect.
    pub provider: Option<String>,
    /// Prisma: prisma.config.* configures a driver adapter (changes which commands work).
    pub adapter: bool,
    pub history: HistoryTable,
    /// Plain SQL: the apply command from dbguard.toml.
    pub apply_command: Option<String>,
    /// Plain SQL files use dbmate's `-- migrate:up` / `-- migrate:down` sections.
    pub dbmate: bool,
}

/// One migration file.
#[derive(Debug, Clone, Serialize)]
pub struct Migration {
    /// Prisma: the folder name; Drizzle: the journal tag; plain: the file name.
    pub name: String,
    /// What the history table records for it (Prisma: the name; Drizzle: the journal
    /// `when`; plain: the version prefix).
    pub key: String,
    #[serde(skip)]
    pub path: PathBuf,
    /// The whole file.
    #[serde(skip)]
    pub sql: String,
    /// What is applied (dbmate: the `-- migrate:up` section; else the whole file).
    #[serde(skip)]
    pub up_sql: String,
    /// SHA-256 of the file, hex (what Prisma and drizzle record).
    pub checksum: String,
    /// Drizzle: the journal's `when` (milliseconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when: Option<i64>,
}

impl Migration {
    /// Read a migration file: `name` as shown, `key` as the history table records it, and
    /// `up` the part that is applied (from the whole file).
    pub fn read(path: PathBuf, name: String, key: String, up: fn(&str) -> String) -> anyhow::Result<Migration> {
        let bytes = std::fs::read(&path).map_err(|e| anyhow!("reading {}: {e}", path.display()))?;
        let sql = String::from_utf8_lossy(&bytes).into_owned();
        Ok(Migration {
            name,
            key,
            up_sql: up(&sql),
            path,
            sql,
            checksum: sha256_hex(&bytes),
            when: None,
        })
    }
}

impl Project {
    /// The entries of the migrations folder; none when the folder does not exist yet.
    pub fn folder_entries(&self) -> anyhow::Result<Vec<std::fs::DirEntry>> {
        match std::fs::read_dir(&self.dir) {
            Ok(rd) => Ok(rd.flatten().collect()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(anyhow!("cannot read {}: {e}", self.dir.display())),
        }
    }

    /// Find the project's tool and folder from `cwd` and dbguard.toml's `[migrate]`.
    pub fn detect(cwd: &Path, config: &Config) -> anyhow::Result<Project> {
        let m = &config.migrate;
        let forced = m.tool.as_deref().map(|t| t.trim().to_ascii_lowercase());
        match forced.as_deref() {
            Some("prisma") => prisma::project(cwd)?.ok_or_else(|| {
                anyhow!("dbguard.toml says [migrate] tool = \"prisma\", but no schema.prisma was found in {} (looked for prisma/schema.prisma, schema.prisma and the `schema` of prisma.config.ts / package.json)", cwd.display())
            }),
            Some("drizzle") | Some("drizzle-kit") => drizzle::project(cwd)?.ok_or_else(|| {
                anyhow!(
                    "dbguard.toml says [migrate] tool = \"drizzle\", but there is no drizzle.config.* in {}",
                    cwd.display()
                )
            }),
            Some("sql") | Some("dbmate") | Some("plain") => plain::project(cwd, m, forced.as_deref() == Some("dbmate")),
            Some(other) => bail!(
                "dbguard.toml: [migrate] tool = \"{other}\" is not a tool dbguard migrate knows (prisma, drizzle, sql, dbmate)"
            ),
            None => {
                if let Some(p) = prisma::project(cwd)? {
                    return Ok(p);
                }
                if let Some(p) = drizzle::project(cwd)? {
                    return Ok(p);
                }
                if m.apply.is_some() || m.dir.is_some() || plain::default_dir(cwd).is_some() {
                    return plain::project(cwd, m, false);
                }
                bail!(
                    "no migrations setup found in {}: no schema.prisma (Prisma), no drizzle.config.* (drizzle-kit), and no \
migrations/ folder of .sql files. For a plain SQL folder, add to dbguard.toml:\n  [migrate]\n  dir = \"migrations\"\n  apply = \"<the command that applies them, reading DATABASE_URL>\"",
                    cwd.display()
                )
            }
        }
    }

    /// The migration files, in the order the tool applies them.
    pub fn migrations(&self) -> anyhow::Result<Vec<Migration>> {
        match self.tool {
            ToolKind::Prisma => prisma::migrations(self),
            ToolKind::Drizzle => drizzle::migrations(self),
            ToolKind::Sql => plain::migrations(self),
        }
    }

    /// The SQL dialect of the migration files, from the provider or the target.
    pub fn dialect(&self, target: Option<&ResolvedTarget>) -> Dialect {
        let p = self.provider.as_deref().unwrap_or("").to_ascii_lowercase();
        if p.contains("sqlite") || p.contains("turso") || p.contains("libsql") {
            return Dialect::Sqlite;
        }
        if p.contains("mysql") || p.contains("singlestore") {
            return Dialect::Mysql;
        }
        match target.and_then(|t| t.engine) {
            Some(Engine::Sqlite) => Dialect::Sqlite,
            Some(Engine::Mysql) => Dialect::Mysql,
            _ => Dialect::Postgres,
        }
    }

    /// The folder as shown to people (relative to the project when inside it).
    pub fn dir_display(&self) -> String {
        crate::target::rel(&self.root, &self.dir)
    }
}

/// Apply the pending migrations of `project` to the database at `url` with the project's
/// own tool (`prisma migrate deploy`, `drizzle-kit migrate`, the configured command).
pub fn apply_with_tool(
    project: &Project,
    url: &str,
    extra_env: &[(String, String)],
    echo: bool,
) -> anyhow::Result<tool::Output> {
    match project.tool {
        ToolKind::Prisma => {
            let mut env = tool::db_env(project, url)?;
            env.extend(extra_env.iter().cloned());
            let argv = tool::node_argv(&project.root, "prisma", &["migrate", "deploy"]);
            tool::run(&argv, &project.root, &env, echo)
        }
        ToolKind::Drizzle => drizzle::migrate(project, url, extra_env, echo),
        ToolKind::Sql => {
            let cmd = plain::apply_command(project)?;
            let argv: Vec<std::ffi::OsString> = vec!["sh".into(), "-c".into(), cmd.into()];
            let mut env = vec![("DATABASE_URL".to_string(), url.to_string())];
            env.extend(extra_env.iter().cloned());
            tool::run(&argv, &project.root, &env, echo)
        }
    }
}

/// The command that applies, as people would type it.
pub fn apply_command_shown(project: &Project) -> String {
    match project.tool {
        ToolKind::Prisma => "npx prisma migrate deploy".into(),
        ToolKind::Drizzle => "npx drizzle-kit migrate".into(),
        ToolKind::Sql => project
            .apply_command
            .clone()
            .unwrap_or_else(|| "(no apply command configured)".into()),
    }
}

/// The SQL that builds the schema file's schema from nothing (Prisma: `migrate diff
/// --from-empty`; drizzle: `drizzle-kit export`); None for plain SQL folders or no change.
pub fn schema_sql(project: &Project, any_url: &str) -> anyhow::Result<Option<String>> {
    match project.tool {
        ToolKind::Prisma => prisma::diff(project, any_url, true),
        ToolKind::Drizzle => {
            let argv = tool::node_argv(&project.root, "drizzle-kit", &["export"]);
            let out = tool::run(&argv, &project.root, &[], false)?;
            if !out.ok() {
                bail!(
                    "`drizzle-kit export` failed (exit {}):\n{}",
                    out.exit.code,
                    out.error_tail(12)
                );
            }
            Ok(Some(out.stdout))
        }
        ToolKind::Sql => Ok(None),
    }
}

/// SHA-256 of bytes, lowercase hex (what Prisma and drizzle store).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A file name part from what a person typed: letters, digits and `_` (Prisma's rule).
pub fn sanitize_name(name: &str) -> anyhow::Result<String> {
    let s: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let s = s.trim_matches('_').to_string();
    if s.is_empty() {
        bail!("the migration name {name:?} has no letters or digits; use something like `add_status`");
    }
    if s.len() > 200 {
        bail!("the migration name is too long (at most 200 characters)");
    }
    Ok(s)
}

/// UTC `YYYYMMDDHHMMSS` for now (Prisma's folder prefix).
pub fn utc_stamp() -> String {
    let now = crate::snapshot::store::now_unix();
    let s = crate::engine::format_utc(now);
    // "YYYY-MM-DD HH:MM:SS UTC"
    s.chars().filter(|c| c.is_ascii_digit()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_known_values() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let long = vec![b'a'; 1000];
        assert_eq!(
            sha256_hex(&long),
            "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"
        );
    }

    #[test]
    fn names() {
        assert_eq!(sanitize_name("Add Status!").unwrap(), "add_status");
        assert!(sanitize_name("  ---  ").is_err());
        assert_eq!(utc_stamp().len(), 14);
    }
}
