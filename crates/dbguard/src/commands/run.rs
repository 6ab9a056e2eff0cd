//! `dbguard run [--url URL] [--json] [--allow-production] -- COMMAND [ARGS...]`: guarded
//! execution.
//!
//! Non-destructive commands are exec'd in place of dbguard: no output, no process left
//! behind, the command's own exit status. Destructive ones get a plan (findings, target,
//! impact, verdict) and then, by verdict:
//! - allow: run, log;
//! - snapshot: snapshot, run, verify, log;
//! - approve: with an approval for this exact plan (`dbguard approve CODE` by a person)
//!   or a typed confirmation from a person at this terminal (no agent detected):
//!   snapshot, run, verify, log. Otherwise never prompt: exit 3 with the plan, an
//!   approval code and the sentence for the person;
//! - block: exit 3 with the reason and the safe alternative. Production only: a person
//!   at a terminal can lift it with `--allow-production` and the database name typed twice.
//!
//! Everything dbguard says goes to stderr (stdout belongs to the command); `--json`
//! prints one object on stdout. A failed snapshot or an unwritable audit log means
//! the command does not run.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::time::{Duration, Instant};

use dbguard_core::policy::Action;
use dbguard_core::redact::redact_text;
use dbguard_core::target::Engine;
use dbguard_core::Environment;
use serde::Serialize;

use crate::approval;
use crate::audit::{self, door, outcome};
use crate::confirm;
use crate::exec;
use crate::exit;
use crate::plan::{self, Input, Measure, Plan, PlanRequest, SnapshotNeed};
use crate::snapshot::{self, Manifest, SnapshotScope, Strategy};

/// How long the impact measurement may take before dbguard decides without numbers.
const MEASURE_DEADLINE: Duration = Duration::from_secs(2);

#[derive(clap::Args)]
pub struct Args {
    /// Database URL (default: what the command itself would use: its flags, DATABASE_URL, .env, ORM config).
    #[arg(long)]
    pub url: Option<String>,
    /// Print the plan and the outcome as one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
    /// Lift the production block for this once: only a person at an interactive terminal,
    /// with no agent detected, typing the database name twice.
    #[arg(long)]
    pub allow_production: bool,
    /// The command to run (after `--`).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        required = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<OsString>,
}

/// The `--json` object.
#[derive(Serialize)]
struct Report<'a> {
    destructive: bool,
    /// blocked | needs_approval | declined | snapshot_failed | ran | spawn_failed | passed_through
    outcome: &'static str,
    /// The command's exit code, when it ran.
    exit_code: Option<i32>,
    plan: Option<&'a Plan>,
    #[serde(skip_serializing_if = "Option::is_none")]
    approval: Option<approval::Pending>,
    /// The approval code that was used up, when one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    approval_used: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    snapshot: Option<SnapshotInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verification: Option<Verification>,
    /// `dbguard restore <id>`, when a snapshot was taken.
    #[serde(skip_serializing_if = "Option::is_none")]
    restore_command: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    safe_alternative: Option<String>,
}

#[derive(Serialize, Clone)]
struct SnapshotInfo {
    id: String,
    scope: String,
    strategy: String,
    tables: usize,
    rows: u64,
    bytes: u64,
    duration_ms: u64,
}

/// After the command: each snapshotted table, then and now.
#[derive(Serialize, Clone, Default)]
pub struct Verification {
    pub tables: Vec<TableChange>,
    /// Tables that exist now but were not in the snapshot (whole-database snapshots only).
    pub new_tables: Vec<String>,
    pub rows_lost: u64,
    /// Why verification is incomplete, when it is.
    pub note: Option<String>,
}

#[derive(Serialize, Clone)]
pub struct TableChange {
    pub table: String,
    pub rows_before: u64,
    /// None: the table is gone.
    pub rows_after: Option<u64>,
}

impl<'a> Report<'a> {
    fn new(plan: &'a Plan, outcome: &'static str) -> Self {
        Report {
            destructive: true,
            outcome,
            exit_code: None,
            plan: Some(plan),
            approval: None,
            approval_used: None,
            snapshot: None,
            verification: None,
            restore_command: None,
            message: None,
            safe_alternative: None,
        }
    }
}

pub fn run(a: Args) -> anyhow::Result<u8> {
    let cwd = std::env::current_dir().map_err(|e| anyhow::anyhow!("cannot read the working directory: {e}"))?;
    let text = exec::shell_join(&a.command);
    let plan = plan::build(PlanRequest {
        input: Input::Shell(text),
        cwd,
        cli_url: a.url.clone(),
        measure: Measure::Within(MEASURE_DEADLINE),
        exact: false,
    });
    if !plan.destructive() {
        if a.json {
            #[derive(Serialize)]
            struct Through<'a> {
                destructive: bool,
                outcome: &'static str,
                command: &'a str,
            }
            crate::output::print_json(&Through {
                destructive: false,
                outcome: "passed_through",
                command: &plan.display,
            })?;
        }
        let e = exec::replace(&a.command);
        eprintln!("dbguard: {}", redact_text(&e.message));
        return Ok(e.code);
    }
    let g = Guarded {
        args: &a,
        plan: &plan,
        db_token: Default::default(),
    };
    match plan.verdict.action {
        Action::Allow => g.go(Consent::Policy, false),
        Action::Snapshot => g.go(Consent::Policy, true),
        Action::Approve => g.approve(),
        Action::Block => g.block(),
    }
}

enum Consent {
    /// The policy allows it (allow, snapshot).
    Policy,
    /// An approval code approved by a person with `dbguard approve`.
    Code(String),
    /// A person typed the database name at this terminal.
    Typed,
    /// A person lifted the production block at this terminal.
    ProductionLifted,
}

struct Guarded<'a> {
    args: &'a Args,
    plan: &'a Plan,
    /// The in-database guard's approval token for the command's sessions, once a person approved.
    db_token: std::cell::RefCell<Option<String>>,
}

impl Guarded<'_> {
    fn human(&self) -> bool {
        !self.args.json
    }

    fn finish(&self, report: &Report<'_>, code: u8) -> anyhow::Result<u8> {
        if self.args.json {
            crate::output::print_json(report)?;
        }
        Ok(code)
    }

    /// Record, and when the log cannot be written say so (the operation is not running anyway).
    fn record_refusal(&self, entry: &audit::Entry) {
        if let Err(e) = audit::record(entry) {
            eprintln!("dbguard: warning: {}", redact_text(&format!("{e:#}")));
        }
    }

    fn approve(&self) -> anyhow::Result<u8> {
        let plan = self.plan;
        if let Some(ok) = approval::consume(plan)? {
            if ok.db_token.is_none() && crate::protect::approval::probe_plan(plan).is_some() {
                return self.approval_misses_the_guard(&ok.code);
            }
            *self.db_token.borrow_mut() = ok.db_token.clone();
            if self.human() {
                eprintln!(
                    "dbguard: using approval {} given by a person with `dbguard approve`",
                    ok.code
                );
            }
            return self.go(Consent::Code(ok.code), true);
        }
        match confirm::interactive_human() {
            Ok(()) => {
                let word = plan.confirmation_word();
                eprintln!(
                    "dbguard: DESTRUCTIVE: this command would destroy data.\n{}",
                    plan.render_text()
                );
                let prompt = format!(
                    "Type the database name ({word}) to {}, or anything else to cancel: ",
                    if snapshot_possible(plan) {
                        "take the snapshot and run it"
                    } else {
                        "run it WITHOUT a snapshot"
                    }
                );
                if confirm::typed(&prompt, &word) {
                    self.go(Consent::Typed, true)
                } else {
                    let mut e = audit::Entry::from_plan(plan, door::RUN);
                    e.outcome = outcome::DECLINED.into();
                    self.record_refusal(&e);
                    eprintln!("dbguard: the name did not match: nothing was run");
                    let mut r = Report::new(plan, outcome::DECLINED);
                    r.message = Some("the database name was not typed: nothing was run".into());
                    self.finish(&r, exit::BLOCKED)
                }
            }
            Err(why) => self.ask_for_approval(
                &why,
                "this command would destroy data, and it did not run.",
                &format!("\n(No prompt here: {why}.)"),
                format!("needs a human's approval; no prompt because {why}"),
            ),
        }
    }

    /// Exit 3 with an approval code for the person: audited, told, reported.
    fn ask_for_approval(&self, why: &str, headline: &str, trailer: &str, message: String) -> anyhow::Result<u8> {
        let plan = self.plan;
        let pending = approval::request(plan)?;
        let mut e = audit::Entry::from_plan(plan, door::RUN);
        e.outcome = outcome::NEEDS_APPROVAL.into();
        e.approval = Some(pending.code.clone());
        e.detail = Some(why.to_string());
        self.record_refusal(&e);
        for f in approval::rejected() {
            eprintln!(
                "dbguard: warning: {} was changed or written outside dbguard (its signature does not match): it approves nothing",
                f.display()
            );
        }
        if self.human() {
            eprintln!(
                "dbguard: NEEDS APPROVAL: {headline}\n{}  approval:    {} (expires {})\n\n{}{trailer}",
                plan.render_text(),
                pending.code,
                pending.expires_at,
                pending.sentence
            );
        }
        let mut r = Report::new(plan, outcome::NEEDS_APPROVAL);
        r.message = Some(message);
        r.approval = Some(pending);
        self.finish(&r, exit::BLOCKED)
    }

    /// An approval given without the database's guard (e.g. from a hook, which does not
    /// look at the database): it would be refused inside the database, so nothing runs and
    /// a new code is issued, which `dbguard approve` writes into the guard too.
    fn approval_misses_the_guard(&self, used: &str) -> anyhow::Result<u8> {
        let why = format!(
            "approval {used} was given without the database's own guard (dbguard protect), which would refuse the command"
        );
        self.ask_for_approval(&why, &format!("{why}; nothing was run."), "", why.clone())
    }

    fn block(&self) -> anyhow::Result<u8> {
        let plan = self.plan;
        let production = plan.target.as_ref().map(|t| t.environment) == Some(Environment::Production);
        let protected = plan.target.as_ref().map(|t| t.protected).unwrap_or(false);
        let mut refusal = None;
        if self.args.allow_production {
            if !production || protected {
                refusal = Some(if protected {
                    "--allow-production does not lift the block on a database marked `protected = true` in dbguard.toml"
                        .to_string()
                } else {
                    "--allow-production lifts only the production block; this block comes from the policy in dbguard.toml".to_string()
                });
            } else {
                match confirm::interactive_human() {
                    Ok(()) => {
                        let word = plan.confirmation_word();
                        eprintln!(
                            "dbguard: PRODUCTION: this command would destroy data.\n{}",
                            plan.render_text()
                        );
                        let first = confirm::typed(
                            &format!("Type the production database name ({word}) to lift the block: "),
                            &word,
                        );
                        let second = first && confirm::typed("Type it once more to confirm: ", &word);
                        if second {
                            return self.go(Consent::ProductionLifted, true);
                        }
                        refusal = Some("the database name was not typed twice: nothing was run".into());
                    }
                    Err(why) => {
                        refusal = Some(format!(
                            "--allow-production needs a person at an interactive terminal ({why})"
                        ));
                    }
                }
            }
        }
        let alternative = safe_alternative(plan);
        let mut e = audit::Entry::from_plan(plan, door::RUN);
        e.outcome = outcome::BLOCKED.into();
        e.detail = refusal.clone();
        self.record_refusal(&e);
        if self.human() {
            eprintln!(
                "dbguard: BLOCKED: this command would destroy data, and it did not run.\n{}",
                plan.render_text()
            );
            if let Some(r) = &refusal {
                eprintln!("dbguard: {r}");
            }
            eprintln!("Safe alternative: {alternative}");
            if production && !protected && refusal.is_none() {
                eprintln!(
                    "Only a person at a terminal can lift a production block, once: `dbguard run --allow-production -- {}` (asks for the database name twice).",
                    plan.display
                );
            }
        }
        let mut r = Report::new(plan, outcome::BLOCKED);
        r.message = Some(refusal.unwrap_or_else(|| plan.verdict.reason.clone()));
        r.safe_alternative = Some(alternative);
        self.finish(&r, exit::BLOCKED)
    }

    /// Snapshot (when required and possible), run, verify, log.
    fn go(&self, consent: Consent, want_snapshot: bool) -> anyhow::Result<u8> {
        let plan = self.plan;
        let mut entry = audit::Entry::from_plan(plan, door::RUN);
        let mut report = Report::new(plan, outcome::RAN);
        if let Consent::Code(code) = &consent {
            entry.approval = Some(code.clone());
            report.approval_used = Some(code.clone());
        }
        entry.detail = Some(
            match consent {
                Consent::Policy => "allowed by policy",
                Consent::Code(_) => "approved with `dbguard approve`",
                Consent::Typed => "confirmed by a person at the terminal",
                Consent::ProductionLifted => "production block lifted by a person at the terminal (--allow-production)",
            }
            .to_string(),
        );
        if matches!(consent, Consent::Typed | Consent::ProductionLifted) {
            // The person is here: a guarded database needs the approval written into it too.
            let expires = crate::audit::now_unix() + approval::ttl().as_secs() as i64;
            match crate::protect::approval::grant_here(plan, expires) {
                Ok(token) => *self.db_token.borrow_mut() = token,
                Err(e) => {
                    let msg = redact_text(&format!("{e:#}"));
                    eprintln!("dbguard: {msg}\ndbguard: the database's guard would refuse the command without it, so it did NOT run.");
                    report.outcome = outcome::DECLINED;
                    report.message = Some(format!("the in-database guard's approval was not given: {msg}"));
                    return self.finish(&report, exit::BLOCKED);
                }
            }
        }
        let mut manifest = None;
        if want_snapshot {
            if let Some(scope) = plan.snapshot.as_ref().and_then(scope_of) {
                match self.take_snapshot(scope) {
                    Ok(m) => manifest = Some(m),
                    Err(e) => {
                        let msg = redact_text(&format!("{e:#}"));
                        let mut failed = entry.next();
                        failed.outcome = outcome::SNAPSHOT_FAILED.into();
                        failed.detail = Some(msg.clone());
                        self.record_refusal(&failed);
                        eprintln!("dbguard: the snapshot failed, so the command did NOT run: {msg}");
                        report.outcome = outcome::SNAPSHOT_FAILED;
                        report.message = Some(format!("snapshot failed; the command did not run: {msg}"));
                        return self.finish(&report, exit::ERROR);
                    }
                }
            }
        }
        if let Some(m) = &manifest {
            entry.snapshot = Some(m.id.clone());
            report.snapshot = Some(SnapshotInfo {
                id: m.id.clone(),
                scope: m.scope.describe(),
                strategy: m.strategy.as_str().to_string(),
                tables: m.tables.len(),
                rows: m.total_rows(),
                bytes: m.bytes,
                duration_ms: m.duration_ms,
            });
            report.restore_command = Some(format!("dbguard restore {}", m.id));
            if self.human() && m.content_pending() {
                eprintln!(
                    "dbguard: snapshot {} taken ({}, clone; row counts are being recorded in the background) in {:.1} s",
                    m.id,
                    m.scope.describe(),
                    m.duration_ms as f64 / 1000.0
                );
            } else if self.human() {
                eprintln!(
                    "dbguard: snapshot {} taken ({}, {} table(s), {} rows) in {:.1} s",
                    m.id,
                    m.scope.describe(),
                    m.tables.len(),
                    m.total_rows(),
                    m.duration_ms as f64 / 1000.0
                );
            }
        }
        // Fail closed: no log line, no destructive run.
        let mut started = entry.next();
        started.outcome = outcome::STARTED.into();
        if let Err(e) = audit::record(&started) {
            let msg = redact_text(&format!("{e:#}"));
            eprintln!("dbguard: the audit log cannot be written, so the command did NOT run: {msg}");
            report.outcome = "audit_failed";
            report.message = Some(format!("audit log not writable; the command did not run: {msg}"));
            return self.finish(&report, exit::ERROR);
        }
        let t0 = Instant::now();
        let token = self.db_token.borrow().clone();
        let result = exec::spawn_and_wait_with(&self.args.command, |c| {
            if let Some(t) = &token {
                crate::protect::approval::apply_to_command(c, t);
            }
        });
        let mut done = entry.next();
        let code = match result {
            Ok(ex) => {
                done.outcome = outcome::RAN.into();
                done.exit_code = Some(ex.code as i32);
                report.exit_code = Some(ex.code as i32);
                ex.code
            }
            Err(e) => {
                done.outcome = outcome::SPAWN_FAILED.into();
                done.detail = Some(e.message.clone());
                report.outcome = outcome::SPAWN_FAILED;
                report.message = Some(redact_text(&e.message));
                eprintln!("dbguard: {}", redact_text(&e.message));
                e.code
            }
        };
        let elapsed = t0.elapsed();
        if let (Some(m), Some(t)) = (&manifest, plan.target.as_ref()) {
            // A clone's row counts may still be being recorded: wait for them or compute
            // them from the clone. Without them there is nothing to compare: say so.
            let (m, v) = match snapshot::ensure_content_for(m, t) {
                Ok(full) => {
                    let v = verify(t, &full);
                    if let Some(info) = report.snapshot.as_mut() {
                        info.tables = full.tables.len();
                        info.rows = full.total_rows();
                    }
                    (full, v)
                }
                Err(e) => (
                    m.clone(),
                    Verification {
                        note: Some(redact_text(&format!(
                            "could not verify: the snapshot's row counts are not available: {e:#}"
                        ))),
                        ..Verification::default()
                    },
                ),
            };
            let m = &m;
            if self.human() {
                eprint!("{}", render_verification(&v, m, code, elapsed));
            }
            done.detail = Some(format!(
                "{} row(s) lost in {} table(s) compared with the snapshot",
                v.rows_lost,
                v.tables.iter().filter(|c| c.rows_after != Some(c.rows_before)).count()
            ));
            report.verification = Some(v);
        } else if self.human() && want_snapshot && manifest.is_none() {
            eprintln!("dbguard: no snapshot was possible for this command; nothing to verify against.");
        }
        if let Err(e) = audit::record(&done) {
            eprintln!("dbguard: warning: {}", redact_text(&format!("{e:#}")));
        }
        self.finish(&report, code)
    }

    fn take_snapshot(&self, scope: SnapshotScope) -> anyhow::Result<Manifest> {
        let t = self
            .plan
            .target
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("no database target was resolved"))?;
        if self.human() {
            eprintln!(
                "dbguard: taking a snapshot ({}) before running the command...",
                scope.describe()
            );
        }
        snapshot::take(
            t,
            scope,
            Strategy::Auto,
            Some("dbguard run".to_string()),
            Some(self.plan.display.clone()),
            self.human(),
        )
    }
}

fn snapshot_possible(plan: &Plan) -> bool {
    plan.snapshot.as_ref().and_then(scope_of).is_some()
}

fn scope_of(need: &SnapshotNeed) -> Option<SnapshotScope> {
    match need {
        SnapshotNeed::Database => Some(SnapshotScope::Database),
        SnapshotNeed::Schemas { names } => Some(SnapshotScope::Schema(names.clone())),
        SnapshotNeed::Tables { names } => Some(SnapshotScope::Tables(names.clone())),
        SnapshotNeed::NotPossible { .. } => None,
    }
}

/// The non-destructive way to do what the command wanted, by tool.
pub fn safe_alternative(plan: &Plan) -> String {
    if let Some(keep) = plan.safeguard() {
        return keep;
    }
    let tools: Vec<&str> = plan
        .analysis
        .findings
        .iter()
        .filter_map(|f| f.tool.as_deref())
        .collect();
    let mut s = if tools.contains(&"prisma") {
        "generate a migration that keeps the data (`prisma migrate diff --from-schema-datasource prisma/schema.prisma --to-schema-datamodel prisma/schema.prisma --script` into a new migration folder, edit it to move data instead of dropping it) and apply it with `prisma migrate deploy`".to_string()
    } else if tools.contains(&"drizzle-kit") {
        "generate a migration with `drizzle-kit generate`, review and edit it so that it keeps the data, and apply it with `drizzle-kit migrate`".to_string()
    } else {
        "write a new migration that keeps the data (rename or copy instead of drop), and apply it through your migration tool".to_string()
    };
    s.push_str("; take a snapshot first with `dbguard snapshot`");
    s
}

/// Compare the snapshot's tables and row counts with the database now.
fn verify(target: &crate::target::ResolvedTarget, m: &Manifest) -> Verification {
    let now = match current_counts(target) {
        Ok(n) => n,
        Err(e) => {
            return Verification {
                note: Some(redact_text(&format!("could not verify: {e:#}"))),
                ..Verification::default()
            };
        }
    };
    let mut v = Verification::default();
    for t in &m.tables {
        let q = t.qualified();
        let after = now.get(&q).copied().or_else(|| now.get(&t.name).copied());
        if let Some(after) = after {
            v.rows_lost += t.rows.saturating_sub(after);
        } else {
            v.rows_lost += t.rows;
        }
        v.tables.push(TableChange {
            table: q,
            rows_before: t.rows,
            rows_after: after,
        });
    }
    if matches!(m.scope, SnapshotScope::Database) {
        for name in now.keys() {
            if !m.tables.iter().any(|t| &t.qualified() == name || &t.name == name) {
                v.new_tables.push(name.clone());
            }
        }
    }
    v
}

fn render_verification(v: &Verification, m: &Manifest, code: u8, elapsed: Duration) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\ndbguard: the command exited with {code} after {:.1} s; compared with snapshot {}:",
        elapsed.as_secs_f64(),
        m.id
    );
    if let Some(n) = &v.note {
        let _ = writeln!(s, "  {n}");
    }
    let mut unchanged = 0;
    for c in &v.tables {
        match c.rows_after {
            None => {
                let _ = writeln!(s, "  {:<40} {} rows -> table gone", c.table, c.rows_before);
            }
            Some(after) if after != c.rows_before => {
                let _ = writeln!(s, "  {:<40} {} rows -> {after} rows", c.table, c.rows_before);
            }
            Some(_) => unchanged += 1,
        }
    }
    if unchanged > 0 {
        let _ = writeln!(s, "  {unchanged} table(s) unchanged in row count");
    }
    if !v.new_tables.is_empty() {
        let _ = writeln!(s, "  new tables: {}", v.new_tables.join(", "));
    }
    if v.rows_lost > 0 {
        let _ = writeln!(s, "  {} row(s) lost.", v.rows_lost);
    } else if v.note.is_none() {
        let _ = writeln!(s, "  no rows lost.");
    }
    let _ = writeln!(
        s,
        "To bring the data back (into a new database; the current one is not touched):\n  dbguard restore {}",
        m.id
    );
    s
}

/// Tables and exact row counts now, keyed by `schema.table` (SQLite: table name).
fn current_counts(target: &crate::target::ResolvedTarget) -> anyhow::Result<BTreeMap<String, u64>> {
    let url = target
        .url
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("no database URL"))?;
    match target.engine.or_else(|| crate::target::engine_of(url)) {
        Some(Engine::Postgres) => pg_counts(url),
        Some(Engine::Sqlite) => sqlite_counts(url),
        _ => anyhow::bail!("verification supports PostgreSQL and SQLite"),
    }
}

fn pg_counts(url: &str) -> anyhow::Result<BTreeMap<String, u64>> {
    use crate::engine::pg_connect;
    let rt = pg_connect::runtime()?;
    rt.block_on(async {
        let client = pg_connect::connect(url, pg_connect::DEFAULT_CONNECT_TIMEOUT).await?;
        let err = |e: tokio_postgres::Error| anyhow::anyhow!("{}", pg_connect::describe_pg_error(&e));
        client
            .batch_execute("SET statement_timeout = '20s'")
            .await
            .map_err(err)?;
        let rows = client
            .query(
                "SELECT n.nspname::text, c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition \
                 AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%' \
                 ORDER BY 1, 2",
                &[],
            )
            .await
            .map_err(err)?;
        let mut out = BTreeMap::new();
        for r in rows {
            let (schema, name): (String, String) = (r.get(0), r.get(1));
            let sql = format!("SELECT count(*) FROM {}", snapshot::pg::qualified(&schema, &name));
            let n: i64 = client.query_one(&sql, &[]).await.map_err(err)?.get(0);
            out.insert(format!("{schema}.{name}"), n.max(0) as u64);
        }
        Ok(out)
    })
}

fn sqlite_counts(url: &str) -> anyhow::Result<BTreeMap<String, u64>> {
    let path = snapshot::sqlite::path_of(url);
    let conn = rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut stmt = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")?;
    let names: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    let mut out = BTreeMap::new();
    for n in names {
        let count: i64 = conn.query_row(
            &format!("SELECT count(*) FROM \"{}\"", n.replace('"', "\"\"")),
            [],
            |r| r.get(0),
        )?;
        out.insert(n, count.max(0) as u64);
    }
    Ok(out)
}
