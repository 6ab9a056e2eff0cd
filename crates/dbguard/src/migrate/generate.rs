//! `dbguard migrate new NAME`: a migration from the schema changes, with no prompt, then
//! linted: its findings, and probable renames with the statement that keeps the data.
//!
//! Prisma: `migrate diff` from the folder (or from empty, for the first migration) to the
//! schema, with a scratch database as the shadow (see `prisma.rs`), written to
//! `<folder>/<UTC YYYYMMDDHHMMSS>_<name>/migration.sql` (and `migration_lock.toml` when
//! missing); nothing written when nothing changed. A `shadowDatabaseUrl` configured in
//! the project is used only when it is provably not the main database and holds no
//! tables; otherwise `new` refuses (exit 3). Drizzle: `drizzle-kit generate --name` with
//! no terminal; a rename question is reported and nothing is kept. Plain SQL: an empty
//! file to fill in.

use std::path::PathBuf;

use dbguard_core::redact::redact_text;
use dbguard_core::sql::migration::ProbableRename;
use serde::Serialize;

use super::ctx::Ctx;
use super::planner::{self, PendingFinding};
use super::scratch::Scratch;
use super::{check, drizzle, plain, prisma, sanitize_name, utc_stamp, ToolKind};

#[derive(Serialize, Default)]
pub struct Report {
    pub tool: &'static str,
    pub folder: String,
    /// written | no_changes | question | refused
    pub result: &'static str,
    /// The files written (relative to the project).
    pub files: Vec<String>,
    pub findings: Vec<PendingFinding>,
    pub probable_renames: Vec<ProbableRename>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scratch: Option<String>,
    pub message: String,
    pub next_step: String,
    #[serde(skip)]
    pub code: u8,
}

pub fn run(ctx: &Ctx, raw_name: &str) -> anyhow::Result<Report> {
    let name = sanitize_name(raw_name)?;
    let mut r = Report {
        tool: ctx.project.tool.as_str(),
        folder: ctx.project.dir_display(),
        ..Report::default()
    };
    let written: Vec<PathBuf> = match ctx.project.tool {
        ToolKind::Prisma => match prisma_new(ctx, &name, &mut r)? {
            Some(p) => vec![p],
            None => return Ok(r),
        },
        ToolKind::Drizzle => match drizzle::generate(&ctx.project, &name)? {
            drizzle::Generated::Written(paths) => paths,
            drizzle::Generated::NoChanges => {
                r.result = "no_changes";
                r.message = "no schema changes: nothing was written".into();
                r.next_step = "Change the drizzle schema first, then run `dbguard migrate new <name>` again.".into();
                return Ok(r);
            }
            drizzle::Generated::Question { what } => {
                r.result = "question";
                r.code = crate::exit::BLOCKED;
                r.message =
                    format!("drizzle-kit needs to ask {what}, which it can only do at a terminal: nothing was written");
                r.next_step = "Decide it in the schema instead: to keep the data, do the rename alone first (rename the \
column or table in the schema and nothing else) and run `dbguard migrate new <name>` in a terminal where `npx drizzle-kit \
generate` can ask you; or write the migration yourself with `npx drizzle-kit generate --custom --name <name>` and put \
`ALTER TABLE ... RENAME COLUMN ... TO ...;` in it. Then `dbguard migrate plan` and `dbguard migrate apply`."
                    .into();
                return Ok(r);
            }
        },
        ToolKind::Sql => vec![plain_new(ctx, &name)?],
    };
    let dialect = ctx.project.dialect(Some(&ctx.target));
    let types = planner::column_types(ctx);
    for p in &written {
        let sql = std::fs::read_to_string(p).unwrap_or_default();
        let up = plain::up_section(&sql);
        for f in dbguard_core::sql::analyze_sql(&up, dialect) {
            r.findings.push(PendingFinding {
                kind: f.kind.as_str(),
                object: f.object.as_deref().map(redact_text),
                detail: redact_text(&f.detail),
                line: f.location.map(|l| l.line),
            });
        }
        r.probable_renames.extend(planner::renames(&up, dialect, &types));
        r.files.push(crate::target::rel(&ctx.project.root, p));
    }
    r.result = "written";
    r.message = format!("wrote {}", r.files.join(", "));
    r.next_step = if !r.probable_renames.is_empty() {
        let fixes: Vec<String> = r
            .probable_renames
            .iter()
            .map(|x| format!("{} -> {}: {}", x.from, x.to, x.statement))
            .collect();
        format!(
            "Probable rename: the migration drops a column and adds another of a compatible type, which loses the values. \
If it is a rename, replace the DROP COLUMN and ADD COLUMN in {} with: {}. Then `dbguard migrate plan` and `dbguard migrate apply`.",
            r.files.join(", "),
            fixes.join("; ")
        )
    } else if !r.findings.is_empty() {
        format!(
            "Review {}: it destroys data (see the findings). Keep the data if it matters (rename, copy), then `dbguard migrate \
plan` and `dbguard migrate apply` (which will need a person's approval).",
            r.files.join(", ")
        )
    } else if ctx.project.tool == ToolKind::Sql {
        format!(
            "Write the SQL into {}, then `dbguard migrate plan` and `dbguard migrate apply`.",
            r.files.join(", ")
        )
    } else {
        format!(
            "Review {}, then `dbguard migrate apply` (it takes a snapshot first), or `dbguard migrate plan` to rehearse it.",
            r.files.join(", ")
        )
    };
    Ok(r)
}

/// Prisma: refuse a shadow that is the main database or holds tables; else diff into a
/// scratch database. Returns the written migration.sql, or None (refused, no changes).
fn prisma_new(ctx: &Ctx, name: &str, r: &mut Report) -> anyhow::Result<Option<PathBuf>> {
    if let Some(issue) = check::shadow_is_main(ctx) {
        r.result = "refused";
        r.code = crate::exit::BLOCKED;
        r.message = format!("{}: dbguard migrate new refuses to use it", issue.detail);
        r.next_step = issue.next_step;
        return Ok(None);
    }
    let configured_shadow = ctx
        .target
        .related
        .iter()
        .find(|x| x.role == "shadowDatabaseUrl")
        .and_then(|x| x.url.clone().map(|u| (u, x.display.clone())));
    let mut scratch = None;
    let shadow_url = match configured_shadow {
        Some((url, shown)) => {
            let tables = check::holds_tables(&url)
                .map_err(|e| anyhow::anyhow!("the configured shadowDatabaseUrl ({shown}) cannot be used: {e:#}"))?;
            if tables > 0 {
                r.result = "refused";
                r.code = crate::exit::BLOCKED;
                r.message = format!(
                    "the configured shadowDatabaseUrl ({shown}) holds {tables} table(s): Prisma resets its shadow database, \
which would destroy them; dbguard migrate new refuses to use it"
                );
                r.next_step =
                    "Point shadowDatabaseUrl at an empty database of its own, or remove it (dbguard then makes a scratch database)."
                        .into();
                return Ok(None);
            }
            r.scratch = Some(format!("the configured shadow database {shown} (empty)"));
            url
        }
        None => {
            let s = Scratch::create(Some(&ctx.target), true)?;
            r.scratch = Some(s.shown.clone());
            let u = s.url.clone();
            scratch = Some(s);
            u
        }
    };
    let from_empty = ctx.project.migrations()?.is_empty();
    let sql = prisma::diff(&ctx.project, &shadow_url, from_empty);
    if let Some(s) = scratch {
        s.finish()?;
    }
    let Some(sql) = sql? else {
        r.result = "no_changes";
        r.message = "the schema matches the migrations: nothing was written".into();
        r.next_step = "Change prisma/schema.prisma first, then run `dbguard migrate new <name>` again.".into();
        return Ok(None);
    };
    let folder = format!("{}_{name}", utc_stamp());
    let dir = prisma::write_migration(&ctx.project, &folder, &sql)?;
    Ok(Some(dir.join("migration.sql")))
}

fn plain_new(ctx: &Ctx, name: &str) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(&ctx.project.dir)?;
    let path = ctx.project.dir.join(format!("{}_{name}.sql", utc_stamp()));
    let body = if ctx.project.dbmate {
        "-- migrate:up\n\n-- migrate:down\n"
    } else {
        "-- Write the migration here.\n"
    };
    std::fs::write(&path, body)?;
    Ok(path)
}
