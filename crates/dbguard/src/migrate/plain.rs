//! Plain SQL folders: `migrations/*.sql` applied in name order by a command configured in
//! dbguard.toml (`[migrate] apply = "..."`, run with `DATABASE_URL` set), recorded by that
//! command in a history table (`[migrate] table`, default `schema_migrations`, column
//! `version`). dbmate's files (`-- migrate:up` / `-- migrate:down`) count by their up
//! section. dbguard records nothing in the database itself.
//!
//! A file's version is its name up to the first `_` when the name starts with a digit
//! (`20240101120000_create_users.sql` -> `20240101120000`, as dbmate, golang-migrate and
//! most runners record it), else the name without `.sql`.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail};

use super::{HistoryTable, Migration, Project, ToolKind};
use crate::config::MigrateConfig;

pub const DEFAULT_TABLE: &str = "schema_migrations";

/// `migrations/` or `db/migrations/` holding `.sql` files.
pub fn default_dir(cwd: &Path) -> Option<PathBuf> {
    ["migrations", "db/migrations"]
        .iter()
        .map(|d| cwd.join(d))
        .find(|d| has_sql(d))
}

fn has_sql(d: &Path) -> bool {
    std::fs::read_dir(d)
        .map(|rd| rd.flatten().any(|e| e.path().extension().is_some_and(|x| x == "sql")))
        .unwrap_or(false)
}

pub fn project(cwd: &Path, m: &MigrateConfig, dbmate: bool) -> anyhow::Result<Project> {
    let dir = match &m.dir {
        Some(d) if d.is_absolute() => d.clone(),
        Some(d) => cwd.join(d),
        None => default_dir(cwd).unwrap_or_else(|| cwd.join("migrations")),
    };
    let mut p = Project {
        tool: ToolKind::Sql,
        root: cwd.to_path_buf(),
        dir,
        schema: None,
        config_file: None,
        provider: None,
        adapter: false,
        history: history_table(m)?,
        apply_command: m.apply.clone().filter(|a| !a.trim().is_empty()),
        dbmate,
    };
    if !p.dbmate {
        p.dbmate = migrations(&p)?.iter().any(|f| f.sql.contains("-- migrate:up"));
    }
    Ok(p)
}

fn history_table(m: &MigrateConfig) -> anyhow::Result<HistoryTable> {
    let raw = m.table.clone().unwrap_or_else(|| DEFAULT_TABLE.into());
    let (schema, table) = match raw.split_once('.') {
        Some((s, t)) => (Some(s.to_string()), t.to_string()),
        None => (None, raw),
    };
    if table.is_empty() {
        bail!("dbguard.toml: [migrate] table is empty");
    }
    Ok(HistoryTable {
        schema,
        table,
        column: m.column.clone().unwrap_or_else(|| "version".into()),
    })
}

/// The version a runner records for a file name.
pub fn version_of(file_name: &str) -> String {
    let stem = file_name.strip_suffix(".sql").unwrap_or(file_name);
    if stem.starts_with(|c: char| c.is_ascii_digit()) {
        stem.split('_').next().unwrap_or(stem).to_string()
    } else {
        stem.to_string()
    }
}

/// dbmate's up section: from `-- migrate:up` to `-- migrate:down` (or the end).
pub fn up_section(sql: &str) -> String {
    let mut out = String::new();
    let mut inside = !sql.contains("-- migrate:up");
    for line in sql.lines() {
        let t = line.trim();
        if t.starts_with("-- migrate:up") {
            inside = true;
            continue;
        }
        if t.starts_with("-- migrate:down") {
            inside = false;
            continue;
        }
        if inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

pub fn migrations(project: &Project) -> anyhow::Result<Vec<Migration>> {
    let mut out = Vec::new();
    for e in project.folder_entries()? {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if !path.is_file() || !name.ends_with(".sql") || name.ends_with(".down.sql") {
            continue;
        }
        out.push(Migration::read(path, name.clone(), version_of(&name), up_section)?);
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The configured apply command, or the error that says how to configure it.
pub fn apply_command(project: &Project) -> anyhow::Result<&str> {
    project.apply_command.as_deref().ok_or_else(|| {
        anyhow!(
            "no apply command configured for the SQL folder {}: add to dbguard.toml\n  [migrate]\n  apply = \"dbmate up\"   # or your own script; it gets the database in DATABASE_URL",
            project.dir_display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_sections() {
        assert_eq!(version_of("20240101120000_create_users.sql"), "20240101120000");
        assert_eq!(version_of("001_init.sql"), "001");
        assert_eq!(version_of("init.sql"), "init");
        let s = "-- migrate:up\nCREATE TABLE a (x int);\n\n-- migrate:down\nDROP TABLE a;\n";
        assert_eq!(up_section(s).trim(), "CREATE TABLE a (x int);");
        assert_eq!(up_section("CREATE TABLE b (x int);").trim(), "CREATE TABLE b (x int);");
    }
}
