//! `dbguard migrate apply`: the pending migrations through the same guarded path as
//! `dbguard run` (`guarded.rs`: policy, approval codes, snapshot, audit log), applied by
//! the project's own tool, then verified: the status is clean again, no drift, and the
//! tables the migrations do not touch keep their row counts.
//!
//! Refused (exit 3, nothing run) when the status is not clean (failed, edited, missing,
//! out of order, drift, a provider mismatch, a shadow that is the main database) or when
//! the pending files changed since the `--plan` given. On failure: what was applied, what
//! failed, the state the tool left, and the restore command; never an automatic
//! `migrate resolve`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Duration;

use dbguard_core::redact::redact_text;
use dbguard_core::target::Engine;
use serde::Serialize;

use super::ctx::Ctx;
use super::planner::PlanFile;
use super::status::{Db, Issue, Status};
use super::{check, Migration, ToolKind};
use crate::audit::door;
use crate::exec::SpawnError;
use crate::guarded::{self, Ran};
use crate::plan::{self, Input, Measure, Plan, PlanRequest, SnapshotNeed};

const MEASURE_DEADLINE: Duration = Duration::from_secs(5);

pub struct Options {
    pub json: bool,
    pub allow_production: bool,
    /// A plan from `dbguard migrate plan --json` the pending files must still match.
    pub plan: Option<PlanFile>,
    /// MCP: the approval code the agent names.
    pub approval_code: Option<String>,
}

/// After the tool ran.
#[derive(Serialize, Default, Clone)]
pub struct AfterCheck {
    /// Pending before, applied now.
    pub applied_now: Vec<String>,
    /// Still pending (not reached).
    pub still_pending: Vec<String>,
    /// Failed in this run (Prisma leaves a row that blocks the next deploy).
    pub failed: Vec<String>,
    /// The status afterwards is clean (drift included).
    pub clean: bool,
    pub issues: Vec<Issue>,
    /// Tables the migrations did not touch whose row count changed.
    pub untouched_changed: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Serialize)]
pub struct Report {
    pub tool: &'static str,
    pub folder: String,
    /// ok | nothing_to_apply | refused | blocked | needs_approval | declined | failed |
    /// snapshot_failed | audit_failed | spawn_failed | applied
    pub result: &'static str,
    pub pending: Vec<String>,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guarded: Option<guarded::Outcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<AfterCheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_step: Option<String>,
    #[serde(skip)]
    pub code: u8,
}

/// The operation text a plan is built from: a header naming the tool and migrations
/// (so an approval for it is not one for the same SQL sent elsewhere), then each file.
pub fn operation_text(ctx: &Ctx, pending: &[&Migration]) -> String {
    let mut s = format!(
        "-- dbguard migrate apply ({}): {}\n",
        super::apply_command_shown(&ctx.project),
        pending.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", ")
    );
    for m in pending {
        s.push_str(&format!("-- migration {} (sha256 {})\n", m.name, m.checksum));
        s.push_str(&m.up_sql);
        if !m.up_sql.ends_with('\n') {
            s.push('\n');
        }
    }
    s
}

/// The plan for applying `pending`: the core's analysis of their SQL on the resolved
/// target, measured on it.
pub fn build_plan(ctx: &Ctx, pending: &[&Migration]) -> Plan {
    let dialect = ctx.project.dialect(Some(&ctx.target));
    let mut p = plan::build_for_target(
        PlanRequest {
            input: Input::Sql {
                text: operation_text(ctx, pending),
                dialect,
            },
            cwd: ctx.cwd.clone(),
            cli_url: None,
            measure: Measure::Within(MEASURE_DEADLINE),
            exact: false,
        },
        ctx.target.clone(),
    );
    p.display = format!(
        "{} ({} pending: {})",
        super::apply_command_shown(&ctx.project),
        pending.len(),
        pending.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", ")
    );
    p
}

/// What to snapshot: the existing tables the migrations touch and the history table
/// (the whole database when that cannot be told, and always for SQLite).
pub fn snapshot_need(ctx: &Ctx, plan: &Plan, pending: &[&Migration], existing: &BTreeMap<String, u64>) -> SnapshotNeed {
    if ctx.target.engine != Some(Engine::Postgres) {
        return SnapshotNeed::Database;
    }
    if matches!(
        plan.snapshot,
        Some(SnapshotNeed::Database) | Some(SnapshotNeed::Schemas { .. })
    ) {
        return SnapshotNeed::Database;
    }
    let dialect = ctx.project.dialect(Some(&ctx.target));
    let mut names: Vec<String> = match &plan.snapshot {
        Some(SnapshotNeed::Tables { names }) => names.clone(),
        _ => Vec::new(),
    };
    for m in pending {
        match dbguard_core::sql::migration::touched_tables(&m.up_sql, dialect) {
            Some(t) => names.extend(t),
            None => return SnapshotNeed::Database,
        }
    }
    names.push(match &ctx.project.history.schema {
        Some(s) => format!("{s}.{}", ctx.project.history.table),
        None => ctx.project.history.table.clone(),
    });
    // Unqualified names live in Prisma's `?schema=` (its history schema), else in public
    // (drizzle keeps its history in a schema of its own).
    let default_schema = match ctx.project.tool {
        ToolKind::Prisma => ctx.project.history.schema.clone(),
        _ => None,
    }
    .unwrap_or_else(|| "public".into());
    let mut keep: Vec<String> = names
        .into_iter()
        .map(|n| {
            if n.contains('.') {
                n
            } else {
                format!("{default_schema}.{n}")
            }
        })
        .filter(|n| existing.contains_key(n))
        .collect();
    keep.sort();
    keep.dedup();
    if keep.is_empty() {
        return SnapshotNeed::NotPossible {
            why: "the migrations touch no table that exists yet: nothing to snapshot".into(),
        };
    }
    SnapshotNeed::Tables { names: keep }
}

fn safe_alternative(ctx: &Ctx) -> String {
    let edit = match ctx.project.tool {
        ToolKind::Prisma => "edit the migration.sql before it is applied",
        ToolKind::Drizzle => "edit the generated .sql before it is applied",
        ToolKind::Sql => "edit the migration file",
    };
    format!(
        "{edit} so that it keeps the data (RENAME COLUMN / RENAME TO instead of DROP and ADD, copy values before a type \
change), check it with `dbguard migrate plan`, then `dbguard migrate apply`; take a snapshot first with `dbguard snapshot`"
    )
}

pub fn run(ctx: &Ctx, opts: &Options) -> anyhow::Result<Report> {
    let url = ctx.url()?.to_string();
    let db = Db::open(&ctx.target)?;
    let files = ctx.project.migrations()?;
    let st = check::full_status(ctx, &db, &files, true)?;
    let pending: Vec<&Migration> = st.pending_files(&files);
    let mut report = Report {
        tool: ctx.project.tool.as_str(),
        folder: ctx.project.dir_display(),
        result: "ok",
        pending: pending.iter().map(|m| m.name.clone()).collect(),
        status: st.clone(),
        plan: None,
        guarded: None,
        after: None,
        message: None,
        next_step: None,
        code: crate::exit::OK,
    };
    if !st.clean {
        report.result = "refused";
        report.code = crate::exit::BLOCKED;
        report.message = Some(format!(
            "the migration status is not clean ({}): nothing was applied",
            st.issues.iter().map(|i| i.kind).collect::<Vec<_>>().join(", ")
        ));
        report.next_step = st.issues.first().map(|i| i.next_step.clone());
        return Ok(report);
    }
    if pending.is_empty() {
        report.result = "nothing_to_apply";
        report.message = Some(format!(
            "nothing to apply: all {} migration(s) in {} are applied",
            st.applied.len(),
            report.folder
        ));
        return Ok(report);
    }
    if let Some(p) = &opts.plan {
        if let Err(why) = p.matches(ctx, &pending) {
            report.result = "refused";
            report.code = crate::exit::BLOCKED;
            report.message = Some(format!("{why}: nothing was applied"));
            report.next_step = Some("Review what changed, make a new plan with `dbguard migrate plan --json > plan.json`, and apply with that plan.".into());
            return Ok(report);
        }
    }
    drop(db);
    let plan = build_plan(ctx, &pending);
    // Which tables exist decides the snapshot's scope; not knowing means the whole database.
    let need = match guarded::current_counts(&ctx.target) {
        _ if ctx.target.engine == Some(Engine::Sqlite) && !ctx.target.file.as_ref().is_some_and(|f| f.is_file()) => {
            SnapshotNeed::NotPossible {
                why: "the SQLite file does not exist yet (the first apply creates it): nothing to snapshot".into(),
            }
        }
        Ok(before) => snapshot_need(ctx, &plan, &pending, &before),
        Err(_) => SnapshotNeed::Database,
    };
    let touched: Vec<String> = match &need {
        SnapshotNeed::Tables { names } => names.clone(),
        _ => Vec::new(),
    };
    let whole = matches!(need, SnapshotNeed::Database);
    let opts_g = guarded::Options {
        door: door::MIGRATE,
        json: opts.json,
        allow_production: opts.allow_production,
        what: "these migrations",
        snapshot: Some(need),
        always_snapshot: true,
        safe_alternative: safe_alternative(ctx),
        lift_command: "dbguard migrate apply --allow-production".into(),
        label: "dbguard migrate apply",
        approval_code: opts.approval_code.clone(),
    };
    let after: RefCell<Option<AfterCheck>> = RefCell::new(None);
    let mut work = |env: &[(String, String)]| -> Ran {
        let counts_before = guarded::current_counts(&ctx.target).unwrap_or_default();
        let out = match run_tool(ctx, &url, env, !opts.json) {
            Ok(o) => o,
            Err(e) => {
                return Ran {
                    exit: Err(SpawnError {
                        code: crate::exit::ERROR,
                        message: format!("{e:#}"),
                    }),
                    detail: None,
                }
            }
        };
        let a = verify(ctx, &pending, &counts_before, &touched, whole, &out);
        let detail = Some(format!(
            "applied {}; {}",
            if a.applied_now.is_empty() {
                "nothing".to_string()
            } else {
                a.applied_now.join(", ")
            },
            if a.clean {
                "status clean afterwards"
            } else {
                "status NOT clean afterwards"
            }
        ));
        *after.borrow_mut() = Some(a);
        Ran {
            exit: Ok(out.exit),
            detail,
        }
    };
    let outcome = guarded::execute(&plan, &opts_g, &mut work)?;
    let after = after.into_inner();
    report.code = outcome.code;
    report.result = match outcome.outcome {
        "ran" if outcome.exit_code == Some(0) => "applied",
        "ran" => "failed",
        other => other,
    };
    if let Some(a) = &after {
        if report.result == "applied" && (!a.clean || !a.untouched_changed.is_empty()) {
            report.code = crate::exit::ERROR;
            report.result = "applied_with_problems";
        }
    }
    let restore = outcome.restore_command.clone();
    report.message = Some(summary(&report, after.as_ref(), restore.as_deref()));
    if report.result == "failed" {
        report.next_step = after
            .as_ref()
            .and_then(|a| a.issues.iter().find(|i| i.kind == "failed"))
            .map(|i| i.next_step.clone())
            .or_else(|| {
                restore
                    .as_ref()
                    .map(|r| format!("To go back: `{r}` (into a new database)"))
            });
    }
    report.plan = Some(plan);
    report.guarded = Some(outcome);
    report.after = after;
    Ok(report)
}

/// The tool against the target, after proving (Prisma) it connects where dbguard means.
fn run_tool(ctx: &Ctx, url: &str, env: &[(String, String)], echo: bool) -> anyhow::Result<super::tool::Output> {
    if ctx.project.tool == ToolKind::Prisma {
        let mut probe_env = super::tool::db_env(&ctx.project, url)?;
        probe_env.extend(env.iter().cloned());
        let seen = super::prisma::probe_database(&ctx.project, &probe_env)?;
        let want = ctx.target.database.clone().unwrap_or_default();
        if seen != want {
            anyhow::bail!(
                "Prisma would connect to \"{seen}\", not to {want} that dbguard planned for: nothing was applied. The project's \
prisma.config reads the connection from somewhere dbguard does not set."
            );
        }
    }
    if echo {
        eprintln!("dbguard: running `{}`:", super::apply_command_shown(&ctx.project));
    }
    super::apply_with_tool(&ctx.project, url, env, echo)
}

fn verify(
    ctx: &Ctx,
    pending: &[&Migration],
    counts_before: &BTreeMap<String, u64>,
    touched: &[String],
    whole: bool,
    out: &super::tool::Output,
) -> AfterCheck {
    let mut a = AfterCheck::default();
    let db = match Db::open(&ctx.target) {
        Ok(d) => d,
        Err(e) => {
            a.note = Some(redact_text(&format!("could not verify: {e:#}")));
            return a;
        }
    };
    let files = ctx.project.migrations().unwrap_or_default();
    match check::full_status(ctx, &db, &files, out.ok()) {
        Ok(st) => {
            for m in pending {
                if st.applied.contains(&m.name) {
                    a.applied_now.push(m.name.clone());
                } else if st.failed.contains(&m.name) {
                    a.failed.push(m.name.clone());
                } else {
                    a.still_pending.push(m.name.clone());
                }
            }
            a.clean = st.clean && st.pending.is_empty();
            a.issues = st.issues;
        }
        Err(e) => a.note = Some(redact_text(&format!("could not read the status afterwards: {e:#}"))),
    }
    if !out.ok() && a.failed.is_empty() && a.issues.is_empty() {
        a.issues.push(Issue {
            kind: "failed",
            subject: super::apply_command_shown(&ctx.project),
            detail: format!("the tool exited with {}: {}", out.exit.code, out.error_tail(6)),
            next_step: "Read the tool's error above, fix the migration or the data, and run `dbguard migrate status`."
                .into(),
        });
    }
    if !whole {
        if let Ok(now) = guarded::current_counts(&ctx.target) {
            for (t, n) in counts_before {
                if touched.contains(t) {
                    continue;
                }
                if now.get(t) != Some(n) {
                    a.untouched_changed.push(format!(
                        "{t}: {n} rows -> {}",
                        now.get(t).map(|x| x.to_string()).unwrap_or_else(|| "gone".into())
                    ));
                }
            }
        }
    }
    a
}

fn summary(r: &Report, after: Option<&AfterCheck>, restore: Option<&str>) -> String {
    let mut s = match r.result {
        "applied" => format!("applied {} migration(s); the status is clean", r.pending.len()),
        "applied_with_problems" => "the migrations ran, but the verification afterwards found problems".to_string(),
        "failed" => "the migration tool failed".to_string(),
        "needs_approval" => "these migrations destroy data and need a person's approval; nothing was applied".into(),
        "blocked" => "blocked by the policy; nothing was applied".into(),
        other => other.replace('_', " "),
    };
    if let Some(a) = after {
        if !a.applied_now.is_empty() && r.result != "applied" {
            s.push_str(&format!("; applied: {}", a.applied_now.join(", ")));
        }
        if !a.failed.is_empty() {
            s.push_str(&format!("; failed: {}", a.failed.join(", ")));
        }
        if !a.still_pending.is_empty() && r.result != "applied" {
            s.push_str(&format!("; not applied: {}", a.still_pending.join(", ")));
        }
        if !a.untouched_changed.is_empty() {
            s.push_str(&format!(
                "; tables the migrations do not touch changed row counts: {}",
                a.untouched_changed.join(", ")
            ));
        }
    }
    if let Some(rc) = restore {
        if r.result != "applied" {
            s.push_str(&format!("; to go back: `{rc}`"));
        }
    }
    s
}
