//! `dbguard migrate status|new|plan|apply|baseline`: schema changes without prompts,
//! through the project's own migration tool (see `migrate/`). Text on stderr/stdout for
//! people, `--json` (one object on stdout) for machines, the same facts in both.
//!
//! Exit codes: 0 ok; 1 error (unreachable server, broken schema, the tool failed);
//! 2 usage; 3 refused or needs approval (status not clean, destructive migrations
//! without approval, production, a shadow database that is the main database, a
//! question only a person can answer). Nothing is applied when the exit code is 3.

use std::path::PathBuf;

use dbguard_core::redact::redact_text;

use crate::migrate::ctx::Ctx;
use crate::migrate::status::Db;
use crate::migrate::{apply, baseline, check, generate, planner};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(clap::Args, Clone)]
pub struct Common {
    /// Database URL (default: the one the migration tool itself would use).
    #[arg(long)]
    pub url: Option<String>,
    /// One JSON object on stdout instead of text.
    #[arg(long)]
    pub json: bool,
    /// Project directory (default: the current directory).
    #[arg(long)]
    pub cwd: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
pub enum Sub {
    /// Applied, pending, failed, edited, missing and out-of-order migrations, drift, with the next step.
    Status {
        #[command(flatten)]
        common: Common,
        /// Skip the drift check (no scratch database).
        #[arg(long)]
        no_drift: bool,
    },
    /// Create a migration from the schema changes, without a prompt, and lint it.
    New {
        #[command(flatten)]
        common: Common,
        /// The migration's name (letters, digits, `_`).
        name: String,
    },
    /// The pending migrations, their findings on the live database, and a rehearsal on a throwaway copy.
    Plan {
        #[command(flatten)]
        common: Common,
        /// Skip the rehearsal.
        #[arg(long)]
        no_rehearsal: bool,
    },
    /// Apply the pending migrations: policy, approval, snapshot, the tool, verification.
    Apply {
        #[command(flatten)]
        common: Common,
        /// A plan from `dbguard migrate plan --json`: refuse if the pending files changed since.
        #[arg(long)]
        plan: Option<PathBuf>,
        /// Lift the production block for this once (a person at a terminal, typing the database name twice).
        #[arg(long)]
        allow_production: bool,
    },
    /// Record a first migration for a database that has tables but no history, proven equal first.
    Baseline {
        #[command(flatten)]
        common: Common,
    },
}

pub fn run(a: Args) -> anyhow::Result<u8> {
    let code = match a.command {
        Sub::Status { common, no_drift } => status(&common, !no_drift),
        Sub::New { common, name } => new(&common, &name),
        Sub::Plan { common, no_rehearsal } => plan(&common, !no_rehearsal),
        Sub::Apply {
            common,
            plan,
            allow_production,
        } => apply(&common, plan, allow_production),
        Sub::Baseline { common } => baseline(&common),
    }?;
    Ok(code)
}

fn ctx(c: &Common) -> anyhow::Result<Ctx> {
    Ctx::load(c.cwd.clone(), c.url.clone())
}

fn header(ctx: &Ctx) -> String {
    let t = &ctx.target;
    format!(
        "{} migrations in {}\n  database:    {}  (from {})\n  environment: {}  ({})\n",
        ctx.project.tool.as_str(),
        ctx.project.dir_display(),
        t.display.as_deref().unwrap_or("(none found)"),
        t.source,
        t.environment.as_str(),
        t.environment_rule
    )
}

fn status(c: &Common, with_drift: bool) -> anyhow::Result<u8> {
    let ctx = ctx(c)?;
    let db = Db::open(&ctx.target)?;
    let files = ctx.project.migrations()?;
    let st = check::full_status(&ctx, &db, &files, with_drift)?;
    let code = if st.clean {
        crate::exit::OK
    } else {
        crate::exit::BLOCKED
    };
    if c.json {
        crate::output::print_json(&check::Report {
            tool: ctx.project.tool.as_str(),
            folder: ctx.project.dir_display(),
            schema: ctx
                .project
                .schema
                .as_ref()
                .map(|s| crate::target::rel(&ctx.project.root, s)),
            target: &ctx.target,
            status: st,
        })?;
        return Ok(code);
    }
    let mut s = header(&ctx);
    if !st.history_exists {
        s.push_str(&format!(
            "  history:     {} does not exist yet (nothing applied)\n",
            st.history_table
        ));
    }
    if files.is_empty() {
        s.push_str(&format!(
            "  no migrations in {} yet: `dbguard migrate new <name>` creates the first one\n",
            ctx.project.dir_display()
        ));
    }
    for e in &st.migrations {
        s.push_str(&format!("  {:<13} {}\n", e.state.replace('_', " "), e.name));
    }
    for m in &st.missing {
        s.push_str(&format!(
            "  {:<13} {m} (in the database, not in the folder)\n",
            "missing"
        ));
    }
    match &st.drift {
        Some(d) if d.checked && d.differences.is_empty() => {
            s.push_str("  drift:       none (the schema matches the applied migrations)\n")
        }
        Some(d) if !d.checked => s.push_str(&format!(
            "  drift:       not checked ({})\n",
            d.note.as_deref().unwrap_or("unknown")
        )),
        _ => {}
    }
    s.push_str(&check::render_issues(&st));
    if st.clean {
        if st.pending.is_empty() {
            s.push_str(&format!("clean: {} applied, nothing pending.\n", st.applied.len()));
        } else {
            s.push_str(&format!(
                "clean: {} applied, {} pending. Next: `dbguard migrate plan` to review, `dbguard migrate apply` to apply.\n",
                st.applied.len(),
                st.pending.len()
            ));
        }
    } else {
        s.push_str(&format!(
            "NOT clean: {} problem(s); `dbguard migrate apply` refuses until they are resolved.\n",
            st.issues.len()
        ));
    }
    print!("{}", redact_text(&s));
    Ok(code)
}

fn new(c: &Common, name: &str) -> anyhow::Result<u8> {
    let ctx = ctx(c)?;
    let r = generate::run(&ctx, name)?;
    if c.json {
        crate::output::print_json(&r)?;
        return Ok(r.code);
    }
    let mut s = format!("{}{}\n", header(&ctx), r.message);
    if let Some(sc) = &r.scratch {
        s.push_str(&format!("  shadow:      {sc} (dropped)\n"));
    }
    for f in &r.findings {
        s.push_str(&format!(
            "  DESTRUCTIVE: {} {} — {}\n",
            f.kind,
            f.object.as_deref().unwrap_or(""),
            f.detail
        ));
    }
    for x in &r.probable_renames {
        s.push_str(&format!(
            "  PROBABLE RENAME: {}.{} -> {}.{} ({}); to keep the data: {}\n",
            x.table, x.from, x.table, x.to, x.data_type, x.statement
        ));
    }
    s.push_str(&format!("Next: {}\n", r.next_step));
    print!("{}", redact_text(&s));
    Ok(r.code)
}

fn plan(c: &Common, rehearse: bool) -> anyhow::Result<u8> {
    let ctx = ctx(c)?;
    let r = planner::run(&ctx, rehearse)?;
    if c.json {
        crate::output::print_json(&r)?;
        return Ok(r.code);
    }
    let mut s = header(&ctx);
    s.push_str(&check::render_issues(&r.status));
    if r.pending.is_empty() {
        s.push_str("  nothing pending\n");
    }
    for p in &r.pending {
        s.push_str(&format!("  pending:     {}  ({})\n", p.name, p.file));
        for f in &p.findings {
            s.push_str(&format!(
                "    - {} {}: {}\n",
                f.kind,
                f.object.as_deref().unwrap_or(""),
                f.detail
            ));
        }
        for x in &p.probable_renames {
            s.push_str(&format!(
                "    - probable rename {}.{} -> {}: keep the data with {}\n",
                x.table, x.from, x.to, x.statement
            ));
        }
    }
    if let Some(plan) = &r.plan {
        if plan.destructive() {
            s.push_str("What applying them would destroy, measured on the live database:\n");
            s.push_str(&plan.render_text());
        } else {
            s.push_str("  findings:    nothing destructive\n");
        }
    }
    if let Some(h) = &r.rehearsal {
        s.push_str(&format!(
            "Rehearsal on a throwaway copy ({}; copy {:.1} s, apply {:.1} s, dropped):\n",
            h.copy,
            h.copy_ms as f64 / 1000.0,
            h.apply_ms as f64 / 1000.0
        ));
        for m in &h.migrations {
            s.push_str(&format!(
                "  {:<12} {}{}{}\n",
                m.state.replace('_', " "),
                m.name,
                m.ms.map(|v| format!(" in {v} ms")).unwrap_or_default(),
                m.error.as_deref().map(|e| format!(": {e}")).unwrap_or_default()
            ));
        }
        if let Some(e) = &h.error {
            s.push_str(&format!("  the tool failed (exit {}):\n", h.exit_code));
            for l in e.lines() {
                s.push_str(&format!("    {l}\n"));
            }
        }
        match &h.schema_check {
            Some(sc) if sc.matches => s.push_str("  result matches the schema file\n"),
            Some(sc) => {
                s.push_str("  result does NOT match the schema file (a schema change without a migration?):\n");
                for l in sc.lines.iter().take(20) {
                    s.push_str(&format!("    {l}\n"));
                }
            }
            None => {}
        }
        if let Some(n) = &h.note {
            s.push_str(&format!("  note: {n}\n"));
        }
    }
    if let Some(e) = &r.rehearsal_error {
        s.push_str(&format!("Rehearsal not possible: {e}\n"));
    }
    s.push_str(&format!("Next: {}\n", r.next_step));
    print!("{}", redact_text(&s));
    Ok(r.code)
}

fn apply(c: &Common, plan: Option<PathBuf>, allow_production: bool) -> anyhow::Result<u8> {
    let ctx = ctx(c)?;
    let plan = match plan {
        Some(p) => Some(planner::PlanFile::read(&p)?),
        None => None,
    };
    if !c.json {
        eprint!("{}", redact_text(&header(&ctx)));
    }
    let r = apply::run(
        &ctx,
        &apply::Options {
            json: c.json,
            allow_production,
            plan,
            approval_code: None,
        },
    )?;
    if c.json {
        crate::output::print_json(&r)?;
        return Ok(r.code);
    }
    let mut s = String::new();
    if r.result == "refused" {
        s.push_str(&check::render_issues(&r.status));
    }
    if let Some(a) = &r.after {
        for i in &a.issues {
            s.push_str(&format!(
                "  PROBLEM ({}): {}\n    next step: {}\n",
                i.kind, i.detail, i.next_step
            ));
        }
    }
    if let Some(m) = &r.message {
        s.push_str(&format!("dbguard: {m}\n"));
    }
    if let Some(n) = &r.next_step {
        s.push_str(&format!("Next: {n}\n"));
    }
    eprint!("{}", redact_text(&s));
    Ok(r.code)
}

fn baseline(c: &Common) -> anyhow::Result<u8> {
    let ctx = ctx(c)?;
    let r = baseline::run(&ctx)?;
    if c.json {
        crate::output::print_json(&r)?;
        return Ok(r.code);
    }
    let mut s = format!("{}{}\n", header(&ctx), r.message);
    for d in r.differences.iter().take(30) {
        s.push_str(&format!("  {d}\n"));
    }
    s.push_str(&format!("Next: {}\n", r.next_step));
    print!("{}", redact_text(&s));
    Ok(r.code)
}
