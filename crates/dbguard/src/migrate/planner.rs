//! `dbguard migrate plan`: the pending migrations, their findings with rows and bytes on
//! the live target, the verdict `apply` will meet, and a rehearsal on a throwaway copy.
//! `--json` is a plan file: a hash of the pending files and the target's identity, which
//! `apply --plan` checks so that what runs is what was reviewed.

use anyhow::Context;
use dbguard_core::redact::redact_text;
use dbguard_core::sql::migration::{probable_renames, ProbableRename};
use dbguard_core::target::Engine;
use serde::{Deserialize, Serialize};

use super::ctx::Ctx;
use super::pg::Pg;
use super::rehearse::{self, Rehearsal};
use super::status::{Db, Status};
use super::{apply, check, Migration};
use crate::plan::Plan;

#[derive(Serialize)]
pub struct PendingInfo {
    pub name: String,
    pub file: String,
    pub sha256: String,
    pub findings: Vec<PendingFinding>,
    pub probable_renames: Vec<ProbableRename>,
}

/// A finding in a pending migration (the plan carries the measured impact).
#[derive(Serialize)]
pub struct PendingFinding {
    pub kind: &'static str,
    pub object: Option<String>,
    pub detail: String,
    pub line: Option<u32>,
}

#[derive(Serialize)]
pub struct Report {
    pub tool: &'static str,
    pub folder: String,
    pub status: Status,
    pub pending: Vec<PendingInfo>,
    /// SHA-256 over the pending migrations' names and checksums, in order.
    pub pending_hash: String,
    pub target_identity: TargetIdentity,
    /// The plan `apply` will act on: findings, impact on the live database, verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rehearsal: Option<Rehearsal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rehearsal_error: Option<String>,
    pub next_step: String,
    #[serde(skip)]
    pub code: u8,
}

/// Which database a plan is for, beyond its URL text.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct TargetIdentity {
    /// The redacted URL or file.
    pub display: String,
    pub database: String,
    /// PostgreSQL: `port/postmaster start` (and the system identifier when readable);
    /// SQLite: the canonical file path.
    pub server: String,
}

/// What `apply --plan FILE` reads back.
#[derive(Debug, Clone, Deserialize)]
pub struct PlanFile {
    pub pending_hash: String,
    #[serde(default)]
    pub target_identity: TargetIdentity,
    #[serde(default)]
    pub pending: Vec<PendingName>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PendingName {
    pub name: String,
}

impl PlanFile {
    pub fn read(path: &std::path::Path) -> anyhow::Result<PlanFile> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading the plan {}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{} is not a plan from `dbguard migrate plan --json`: {e}",
                path.display()
            )
        })
    }

    /// Err(why) when the pending files or the target are not what the plan was made for.
    pub fn matches(&self, ctx: &Ctx, pending: &[&Migration]) -> Result<(), String> {
        let now = pending_hash(pending);
        if now != self.pending_hash {
            let was: Vec<&str> = self.pending.iter().map(|p| p.name.as_str()).collect();
            let is: Vec<&str> = pending.iter().map(|m| m.name.as_str()).collect();
            return Err(if was != is {
                format!(
                    "the pending migrations changed since the plan (planned: {}; now: {})",
                    was.join(", "),
                    is.join(", ")
                )
            } else {
                "the pending migration files were edited since the plan (their SHA-256 differs)".to_string()
            });
        }
        let id = target_identity(ctx);
        if !self.target_identity.server.is_empty() && id.server != self.target_identity.server
            || !self.target_identity.database.is_empty() && id.database != self.target_identity.database
        {
            return Err(format!(
                "the plan was made for {} and this is {}",
                self.target_identity.display, id.display
            ));
        }
        Ok(())
    }
}

pub fn pending_hash(pending: &[&Migration]) -> String {
    let mut s = String::new();
    for m in pending {
        s.push_str(&m.name);
        s.push('\0');
        s.push_str(&m.checksum);
        s.push('\n');
    }
    super::sha256_hex(s.as_bytes())
}

pub fn target_identity(ctx: &Ctx) -> TargetIdentity {
    let t = &ctx.target;
    let mut id = TargetIdentity {
        display: t.display.clone().unwrap_or_default(),
        database: t.database.clone().unwrap_or_default(),
        server: String::new(),
    };
    match t.engine {
        Some(Engine::Postgres) => {
            if let Some(i) = t
                .url
                .as_deref()
                .and_then(|u| Pg::connect(u).ok())
                .and_then(|p| p.identity().ok())
            {
                id.server = format!(
                    "port {} started {}{}",
                    i.port,
                    i.started,
                    i.system.map(|s| format!(" system {s}")).unwrap_or_default()
                );
                id.database = i.database;
            }
        }
        Some(Engine::Sqlite) => {
            if let Some(f) = &t.file {
                id.server = std::fs::canonicalize(f)
                    .unwrap_or_else(|_| f.clone())
                    .display()
                    .to_string();
            }
        }
        _ => {}
    }
    id
}

/// Column types of the live database, for telling renames from replacements.
pub fn column_types(ctx: &Ctx) -> Vec<(String, String, String)> {
    let Ok(db) = Db::open(&ctx.target) else {
        return Vec::new();
    };
    match db {
        Db::Pg(pg) => pg_types(&pg),
        Db::Sqlite(conn) => {
            let mut out = Vec::new();
            if let Ok(mut st) = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table'") {
                let tables: Vec<String> = st
                    .query_map([], |r| r.get(0))
                    .map(|it| it.flatten().collect())
                    .unwrap_or_default();
                for t in tables {
                    if let Ok(mut c) = conn.prepare(&format!(
                        "SELECT name, type FROM pragma_table_info({})",
                        crate::snapshot::pg::quote_literal(&t)
                    )) {
                        let cols: Vec<(String, String)> = c
                            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                            .map(|it| it.flatten().collect())
                            .unwrap_or_default();
                        for (col, ty) in cols {
                            out.push((t.clone(), col, ty));
                        }
                    }
                }
            }
            out
        }
    }
}

fn pg_types(pg: &Pg) -> Vec<(String, String, String)> {
    pg.query(
        "SELECT c.table_schema::text, c.table_name::text, c.column_name::text, c.data_type::text \
         FROM information_schema.columns c WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema')",
        &[],
    )
    .map(|rows| {
        let mut out = Vec::new();
        for r in rows {
            let (s, t, c, ty): (String, String, String, String) = (r.get(0), r.get(1), r.get(2), r.get(3));
            out.push((format!("{s}.{t}"), c.clone(), ty.clone()));
            out.push((t, c, ty));
        }
        out
    })
    .unwrap_or_default()
}

/// Probable renames in `sql`, with the dropped columns' types from `types`.
pub fn renames(sql: &str, dialect: dbguard_core::Dialect, types: &[(String, String, String)]) -> Vec<ProbableRename> {
    probable_renames(sql, dialect, &|table, column| {
        types
            .iter()
            .find(|(t, c, _)| t == table && c == column)
            .map(|(_, _, ty)| ty.clone())
    })
}

pub fn run(ctx: &Ctx, rehearse_it: bool) -> anyhow::Result<Report> {
    let db = Db::open(&ctx.target)?;
    let files = ctx.project.migrations()?;
    let st = check::full_status(ctx, &db, &files, true)?;
    drop(db);
    let pending: Vec<&Migration> = st.pending_files(&files);
    let dialect = ctx.project.dialect(Some(&ctx.target));
    let types = column_types(ctx);
    let plan = (!pending.is_empty()).then(|| apply::build_plan(ctx, &pending));
    let mut infos = Vec::new();
    for m in &pending {
        let findings = dbguard_core::sql::analyze_sql(&m.up_sql, dialect);
        infos.push(PendingInfo {
            name: m.name.clone(),
            file: crate::target::rel(&ctx.project.root, &m.path),
            sha256: m.checksum.clone(),
            findings: findings
                .iter()
                .map(|f| PendingFinding {
                    kind: f.kind.as_str(),
                    object: f.object.as_deref().map(redact_text),
                    detail: redact_text(&f.detail),
                    line: f.location.map(|l| l.line),
                })
                .collect(),
            probable_renames: renames(&m.up_sql, dialect, &types),
        });
    }
    let mut rehearsal = None;
    let mut rehearsal_error = None;
    if rehearse_it && !pending.is_empty() && st.clean {
        match rehearse::rehearse(&ctx.project, &ctx.target, &pending) {
            Ok(r) => rehearsal = Some(r),
            Err(e) => rehearsal_error = Some(redact_text(&format!("{e:#}"))),
        }
    }
    let destructive = plan.as_ref().is_some_and(|p| p.destructive());
    let rehearsal_failed = rehearsal.as_ref().is_some_and(|r| !r.ok) || rehearsal_error.is_some();
    let code = if !st.clean || destructive {
        crate::exit::BLOCKED
    } else if rehearsal_failed {
        crate::exit::ERROR
    } else {
        crate::exit::OK
    };
    let next_step = if !st.clean {
        st.issues.first().map(|i| i.next_step.clone()).unwrap_or_default()
    } else if pending.is_empty() {
        "Nothing is pending. To change the schema: edit the schema, then `dbguard migrate new <name>`.".to_string()
    } else if rehearsal_failed {
        "The rehearsal failed: the real apply would fail the same way. Fix the migration (or the data it trips on), then run `dbguard migrate plan` again.".to_string()
    } else if destructive {
        "These migrations destroy data (see the findings). If that is intended, `dbguard migrate apply` takes a snapshot and asks for a person's approval (production stays blocked); otherwise edit the migration to keep the data.".to_string()
    } else {
        "`dbguard migrate apply` applies them (with a snapshot first), or `dbguard migrate plan --json > plan.json` then `dbguard migrate apply --plan plan.json` to apply exactly what was reviewed.".to_string()
    };
    let report = Report {
        tool: ctx.project.tool.as_str(),
        folder: ctx.project.dir_display(),
        pending_hash: pending_hash(&pending),
        target_identity: target_identity(ctx),
        status: st,
        pending: infos,
        plan,
        rehearsal,
        rehearsal_error,
        next_step,
        code,
    };
    Ok(report)
}
