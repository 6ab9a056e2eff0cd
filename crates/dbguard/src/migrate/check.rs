//! `dbguard migrate status`, whole: the files against the history table (`status.rs`),
//! plus the checks that need more than the two: a `migration_lock.toml` provider that
//! does not match the database, a Prisma shadow database that is the main database
//! (compared by server identity, not URL text), and drift.

use dbguard_core::redact::redact_text;
use dbguard_core::target::Engine;
use serde::Serialize;

use super::ctx::Ctx;
use super::pg::Pg;
use super::status::{self, Db, Issue, Status};
use super::{drift, history, prisma, Migration, ToolKind};
use crate::target::ResolvedTarget;

/// The whole status report.
#[derive(Serialize)]
pub struct Report<'a> {
    pub tool: &'static str,
    pub folder: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub target: &'a ResolvedTarget,
    #[serde(flatten)]
    pub status: Status,
}

/// Read history, compare with the files, run the extra checks (drift when `with_drift`).
pub fn full_status(ctx: &Ctx, db: &Db, files: &[Migration], with_drift: bool) -> anyhow::Result<Status> {
    let history = history::read(&ctx.project, db)?;
    let mut st = status::compute(&ctx.project, files, &history);
    if let Some(i) = provider_mismatch(ctx) {
        st.push(i);
    }
    if let Some(i) = shadow_is_main(ctx) {
        st.push(i);
    }
    if with_drift
        && st.failed.is_empty()
        && st.missing.is_empty()
        && !st.issues.iter().any(|i| i.kind == "needs_baseline")
    {
        let applied = st.applied_files(files);
        let report = drift::check(&ctx.project, &ctx.target, db, &applied);
        if report.drifted() {
            let lines = report.lines.iter().take(12).cloned().collect::<Vec<_>>().join("; ");
            st.push(Issue {
                kind: "drift",
                subject: ctx.target.display.clone().unwrap_or_default(),
                detail: format!(
                    "the database schema differs from what the {} applied migration(s) produce: {lines}",
                    applied.len()
                ),
                next_step: "Someone changed the schema outside the migrations. Either undo that change by hand, or make it \
part of the history: put the same change in the schema file, run `dbguard migrate new <name>`, check the migration does \
exactly that change, and record it as applied without running it (Prisma: `npx prisma migrate resolve --applied <folder>`). \
`dbguard migrate apply` refuses until the database and the migrations agree."
                    .into(),
            });
        }
        st.drift = Some(report);
    }
    Ok(st)
}

/// `migration_lock.toml` says one provider, the database is another engine.
fn provider_mismatch(ctx: &Ctx) -> Option<Issue> {
    if ctx.project.tool != ToolKind::Prisma {
        return None;
    }
    let lock = prisma::lock_provider(&ctx.project)?;
    let want = prisma::provider_engine(&lock)?;
    let have = ctx.target.engine?;
    if want == have {
        return None;
    }
    let name = |e: Engine| match e {
        Engine::Postgres => "PostgreSQL",
        Engine::Sqlite => "SQLite",
        Engine::Mysql => "MySQL",
        _ => "another engine",
    };
    Some(Issue {
        kind: "provider_mismatch",
        subject: format!("{}/migration_lock.toml", ctx.project.dir_display()),
        detail: format!(
            "migration_lock.toml says provider = \"{lock}\" ({}), but the database is {} ({})",
            name(want),
            name(have),
            ctx.target.display.as_deref().unwrap_or("?")
        ),
        next_step: format!(
            "The migrations were written for {}. Point DATABASE_URL at a {} database, or, if the project moved to {}, start a \
new history for it (a new migrations folder) instead of applying these.",
            name(want),
            name(want),
            name(have)
        ),
    })
}

/// Prisma's shadowDatabaseUrl names the main database: `migrate dev` would wipe it.
pub fn shadow_is_main(ctx: &Ctx) -> Option<Issue> {
    let shadow = ctx.target.related.iter().find(|r| r.role == "shadowDatabaseUrl")?;
    let same = same_database(ctx.target.url.as_deref(), shadow.url.as_deref()).unwrap_or(shadow.same_as_target);
    if !same {
        return None;
    }
    Some(Issue {
        kind: "shadow_is_main",
        subject: format!("shadowDatabaseUrl ({})", shadow.source),
        detail: format!(
            "Prisma's shadow database {} is the main database {}: `prisma migrate dev` resets the shadow database, which \
would wipe this one",
            shadow.display,
            ctx.target.display.as_deref().unwrap_or("?")
        ),
        next_step: "Remove shadowDatabaseUrl (dbguard migrate new makes its own scratch database) or point it at an empty \
database of its own. Until then do not run `prisma migrate dev`."
            .into(),
    })
}

/// Whether two PostgreSQL URLs reach the same database, by asking both servers who they
/// are; None when either cannot be reached (the caller falls back to comparing the URLs).
pub fn same_database(a: Option<&str>, b: Option<&str>) -> Option<bool> {
    let (a, b) = (a?, b?);
    let engine = |u: &str| crate::target::engine_of(u);
    if engine(a) != Some(Engine::Postgres) || engine(b) != Some(Engine::Postgres) {
        return None;
    }
    let timeout = std::time::Duration::from_secs(2);
    let ia = Pg::connect_timeout(a, timeout).ok()?.identity().ok()?;
    let ib = Pg::connect_timeout(b, timeout).ok()?.identity().ok()?;
    Some(ia.same_database(&ib))
}

/// Whether a database holds tables (a shadow must not).
pub fn holds_tables(url: &str) -> anyhow::Result<i64> {
    Pg::connect(url)?.table_count(&[])
}

/// One line per issue, for people.
pub fn render_issues(st: &Status) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    for i in &st.issues {
        let _ = writeln!(
            s,
            "  PROBLEM ({}): {}",
            i.kind.replace('_', " "),
            redact_text(&i.detail)
        );
        let _ = writeln!(s, "    next step: {}", redact_text(&i.next_step));
    }
    s
}
