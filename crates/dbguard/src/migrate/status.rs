//! Files against history: which migrations are applied, pending, failed, edited after
//! they were applied, applied but missing from the folder, or out of order (drizzle-kit
//! skips those silently); each problem with the exact next step. [`compute`] is pure.

use std::collections::BTreeMap;

use anyhow::anyhow;
use dbguard_core::target::Engine;
use serde::Serialize;

use super::history::{Applied, History};
use super::pg::Pg;
use super::{Migration, Project, ToolKind};
use crate::target::ResolvedTarget;

/// An open connection to the target, either engine.
pub enum Db {
    Pg(Pg),
    Sqlite(rusqlite::Connection),
}

impl Db {
    /// Open the target (read-only for SQLite). Errors name the database, redacted.
    pub fn open(target: &ResolvedTarget) -> anyhow::Result<Db> {
        let shown = target.display.clone().unwrap_or_else(|| "(no database)".into());
        match target.engine {
            Some(Engine::Postgres) => {
                let url = target.url.as_deref().ok_or_else(|| anyhow!("no connection URL"))?;
                Ok(Db::Pg(Pg::connect(url)?))
            }
            Some(Engine::Sqlite) => {
                let file = target
                    .file
                    .as_ref()
                    .ok_or_else(|| anyhow!("cannot tell which SQLite file {shown} names"))?;
                if !file.is_file() {
                    // The tool creates it on first apply: an empty database.
                    let conn = rusqlite::Connection::open_in_memory()?;
                    return Ok(Db::Sqlite(conn));
                }
                let conn = rusqlite::Connection::open_with_flags(file, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                    .map_err(|e| anyhow!("cannot open the SQLite database {shown}: {e}"))?;
                Ok(Db::Sqlite(conn))
            }
            Some(other) => anyhow::bail!("dbguard migrate supports PostgreSQL and SQLite, not {other:?} ({shown})"),
            None => anyhow::bail!(
                "no database found: set DATABASE_URL (or pass --url), or check the datasource in the project's configuration"
            ),
        }
    }
}

/// One migration's state.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub name: String,
    /// applied | pending | failed | edited | out_of_order
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied_at: Option<String>,
}

/// A problem that makes the status unclean, with what to do.
#[derive(Debug, Clone, Serialize)]
pub struct Issue {
    /// failed | edited | missing | out_of_order | provider_mismatch | shadow_is_main |
    /// drift | needs_baseline | unknown_history
    pub kind: &'static str,
    pub subject: String,
    pub detail: String,
    pub next_step: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub tool: &'static str,
    pub folder: String,
    pub history_table: String,
    pub history_exists: bool,
    pub migrations: Vec<Entry>,
    pub applied: Vec<String>,
    pub pending: Vec<String>,
    pub failed: Vec<String>,
    pub edited: Vec<String>,
    /// Applied in the database, absent from the folder.
    pub missing: Vec<String>,
    pub out_of_order: Vec<String>,
    pub issues: Vec<Issue>,
    /// Whether drift was checked, and its result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift: Option<super::drift::DriftReport>,
    /// No issue: `apply` may go ahead.
    pub clean: bool,
}

impl Status {
    pub fn push(&mut self, issue: Issue) {
        self.issues.push(issue);
        self.clean = false;
    }

    /// The pending migrations, in order.
    pub fn pending_files<'a>(&self, files: &'a [Migration]) -> Vec<&'a Migration> {
        files.iter().filter(|f| self.pending.contains(&f.name)).collect()
    }

    /// The applied migrations, in folder order.
    pub fn applied_files<'a>(&self, files: &'a [Migration]) -> Vec<&'a Migration> {
        files
            .iter()
            .filter(|f| self.applied.contains(&f.name) || self.edited.contains(&f.name))
            .collect()
    }
}

fn restore_hint() -> &'static str {
    "`dbguard snapshots` lists the snapshot dbguard took before the apply; `dbguard restore <id>` brings that state back into a new database"
}

/// Compare the folder with the history.
pub fn compute(project: &Project, files: &[Migration], history: &History) -> Status {
    let mut st = Status {
        tool: project.tool.as_str(),
        folder: project.dir_display(),
        history_table: project.history.display(),
        history_exists: history.exists,
        migrations: Vec::new(),
        applied: Vec::new(),
        pending: Vec::new(),
        failed: Vec::new(),
        edited: Vec::new(),
        missing: Vec::new(),
        out_of_order: Vec::new(),
        issues: Vec::new(),
        drift: None,
        clean: true,
    };
    match project.tool {
        ToolKind::Drizzle => drizzle_states(&mut st, files, history),
        _ => named_states(&mut st, project, files, history),
    }
    for e in &st.migrations {
        match e.state {
            "applied" => st.applied.push(e.name.clone()),
            "pending" => st.pending.push(e.name.clone()),
            "failed" => st.failed.push(e.name.clone()),
            "edited" => st.edited.push(e.name.clone()),
            "out_of_order" => st.out_of_order.push(e.name.clone()),
            _ => {}
        }
    }
    let issues = issues_for(project, files, history, &st);
    for i in issues {
        st.push(i);
    }
    st
}

/// Prisma and plain SQL: files and rows match by name (plain: by version).
fn named_states(st: &mut Status, project: &Project, files: &[Migration], history: &History) {
    let mut by_name: BTreeMap<&str, Vec<&Applied>> = BTreeMap::new();
    for r in &history.rows {
        by_name.entry(r.name.as_str()).or_default().push(r);
    }
    for f in files {
        let rows = by_name.get(f.key.as_str()).cloned().unwrap_or_default();
        let done = rows
            .iter()
            .find(|r| r.finished_at.is_some() && r.rolled_back_at.is_none());
        let state = match done {
            Some(r) => match (&r.checksum, project.tool) {
                (Some(c), ToolKind::Prisma) if !c.eq_ignore_ascii_case(&f.checksum) => "edited",
                _ => "applied",
            },
            None if rows.iter().any(|r| r.failed()) => "failed",
            None => "pending",
        };
        st.migrations.push(Entry {
            name: f.name.clone(),
            state,
            applied_at: done.and_then(|r| r.finished_at.clone()).filter(|s| !s.is_empty()),
        });
    }
    for (name, rows) in &by_name {
        if files.iter().any(|f| f.key == *name) {
            continue;
        }
        if rows.iter().any(|r| r.rolled_back_at.is_none()) {
            st.missing.push(name.to_string());
        }
    }
}

/// Drizzle: rows match journal entries by `created_at` == `when` (what its migrator
/// compares); an unapplied entry not after the newest applied one is skipped by it.
fn drizzle_states(st: &mut Status, files: &[Migration], history: &History) {
    let newest = history.rows.iter().filter_map(|r| r.created_at).max();
    for f in files {
        let row = history
            .rows
            .iter()
            .find(|r| r.created_at.is_some() && r.created_at == f.when);
        let state = match row {
            Some(r)
                if r.checksum
                    .as_deref()
                    .is_some_and(|c| !c.eq_ignore_ascii_case(&f.checksum)) =>
            {
                "edited"
            }
            Some(_) => "applied",
            None => match (newest, f.when) {
                (Some(n), Some(w)) if w <= n => "out_of_order",
                _ => "pending",
            },
        };
        st.migrations.push(Entry {
            name: f.name.clone(),
            state,
            applied_at: row
                .and_then(|r| r.created_at)
                .map(|ms| crate::engine::format_utc(ms / 1000)),
        });
    }
    for r in &history.rows {
        if !files.iter().any(|f| f.when.is_some() && f.when == r.created_at) {
            let when = r.created_at.map(|ms| format!(" (created_at {ms})")).unwrap_or_default();
            st.missing.push(format!("{}{when}", short_hash(&r.name)));
        }
    }
}

fn short_hash(h: &str) -> String {
    if h.len() > 12 && h.chars().all(|c| c.is_ascii_hexdigit()) {
        format!("hash {}", &h[..12])
    } else {
        h.to_string()
    }
}

fn issues_for(project: &Project, files: &[Migration], history: &History, st: &Status) -> Vec<Issue> {
    let mut out = Vec::new();
    let apply = "dbguard migrate apply";
    for name in &st.failed {
        let logs = history
            .rows
            .iter()
            .filter(|r| &r.name == name && r.failed())
            .filter_map(|r| r.logs.as_deref())
            .next_back()
            .map(first_error_line)
            .unwrap_or_default();
        let detail = if logs.is_empty() {
            format!("{name} started but did not finish; Prisma applies nothing more until it is resolved")
        } else {
            format!("{name} failed: {logs}; Prisma applies nothing more until it is resolved")
        };
        out.push(Issue {
            kind: "failed",
            subject: name.clone(),
            detail,
            next_step: format!(
                "Prisma does not run a migration in a transaction, so statements before the failing one may be applied. \
Look at what is there, fix the cause (the data or {path}), undo its partial changes by hand, then run `npx prisma migrate \
resolve --rolled-back {name}` and `{apply}` again; if you completed it by hand instead, `npx prisma migrate resolve \
--applied {name}`. Or go back: {hint}. dbguard never resolves a failed migration for you.",
                path = files
                    .iter()
                    .find(|f| &f.name == name)
                    .map(|f| crate::target::rel(&project.root, &f.path))
                    .unwrap_or_else(|| "the migration".into()),
                hint = restore_hint()
            ),
        });
    }
    for name in &st.edited {
        let path = files
            .iter()
            .find(|f| &f.name == name)
            .map(|f| crate::target::rel(&project.root, &f.path))
            .unwrap_or_default();
        out.push(Issue {
            kind: "edited",
            subject: name.clone(),
            detail: format!(
                "{path} was changed after it was applied: its SHA-256 differs from the one the database recorded"
            ),
            next_step: format!(
                "Put the applied version back (`git checkout -- {path}` or your history), and write further changes as a new \
migration: `dbguard migrate new <name>`."
            ),
        });
    }
    for name in &st.missing {
        out.push(Issue {
            kind: "missing",
            subject: name.clone(),
            detail: format!(
                "{name} is recorded as applied in {} but is not in {}",
                st.history_table, st.folder
            ),
            next_step:
                "Get the folder the database was migrated from (pull or merge the branch that added it, or restore \
the deleted file) before applying anything; if it really belongs to another project, that database is the wrong target."
                    .into(),
        });
    }
    if !st.out_of_order.is_empty() {
        let newest = history.rows.iter().filter_map(|r| r.created_at).max().unwrap_or(0);
        for name in &st.out_of_order {
            let when = files.iter().find(|f| &f.name == name).and_then(|f| f.when).unwrap_or(0);
            out.push(Issue {
                kind: "out_of_order",
                subject: name.clone(),
                detail: format!(
                    "{name} is not applied, and its journal `when` ({when}) is not after the newest applied migration's \
created_at ({newest}): `drizzle-kit migrate` would skip it without a word"
                ),
                next_step: format!(
                    "Move its SQL into a new migration generated after the newest one (`dbguard migrate new <name>`, then copy \
the statements), and remove {name} from {}/meta/_journal.json and the folder.",
                    st.folder
                ),
            });
        }
    }
    if !history.exists && history.user_tables > 0 && !files.is_empty() {
        out.push(Issue {
            kind: "needs_baseline",
            subject: st.history_table.clone(),
            detail: format!(
                "the database holds {} table(s) but has no migration history ({} does not exist): applying {} would try to \
create what is already there",
                history.user_tables, st.history_table, files[0].name
            ),
            next_step: "If the folder's first migration describes the tables already there, record it as applied: `dbguard \
migrate baseline` (it proves the schemas equal first). Otherwise point DATABASE_URL at the right database."
                .into(),
        });
    }
    out
}

/// What a tool's error log says went wrong: its first lines, before any stack trace
/// (`0: sql_schema_connector::...`), joined; redacted and capped.
pub fn first_error_line(logs: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for l in logs.lines().map(str::trim) {
        let trace = l
            .split_once(':')
            .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
            || l.starts_with("at ")
            || l.starts_with("with ");
        if trace {
            break;
        }
        if !l.is_empty() && kept.len() < 4 {
            kept.push(l);
        }
    }
    let s: String = kept.join(": ").chars().take(400).collect();
    dbguard_core::redact::redact_text(&s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_lines() {
        let logs = "external connector error\nNo such table: Nope\n   0: sql_schema_connector::apply_migration::apply_script\n           with x\n";
        assert_eq!(first_error_line(logs), "external connector error: No such table: Nope");
        let native = "Database error code: 42P01\n\nDatabase error:\nERROR: relation \"Nope\" does not exist\n\nDbError { severity: \"ERROR\" }";
        assert!(first_error_line(native).contains("relation \"Nope\" does not exist"));
    }
}
