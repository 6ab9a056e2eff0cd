//! Guarded execution of a destructive plan: the one path `dbguard run` and `dbguard
//! migrate apply` share (same policy, same approval codes, same audit entries).
//!
//! By verdict:
//! - allow: run, log (with a snapshot first when the door asks for one);
//! - snapshot: snapshot, run, verify, log;
//! - approve: with an approval for this exact plan (`dbguard approve CODE` by a person)
//!   or a typed confirmation from a person at this terminal (no agent detected):
//!   snapshot, run, verify, log. Otherwise never prompt: the outcome is `needs_approval`
//!   with an approval code and the sentence for the person (exit 3);
//! - block: exit 3 with the reason and the safe alternative. Production only: a person
//!   at a terminal can lift it with `--allow-production` and the database name typed twice.
//!
//! A failed snapshot or an unwritable audit log means the work does not run. The door
//! supplies the work (a closure) and gets back an [`Outcome`] to print.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use dbguard_core::policy::Action;
use dbguard_core::redact::redact_text;
use dbguard_core::target::Engine;
use dbguard_core::Environment;
use serde::Serialize;

use crate::approval;
use crate::audit::{self, outcome};
use crate::confirm;
use crate::exec::{ChildExit, SpawnError};
use crate::exit;
use crate::plan::{Plan, SnapshotNeed};
use crate::snapshot::{self, Manifest, SnapshotScope, Strategy};

/// How a door wants its plan guarded.
pub struct Options<'a> {
    /// The audit log's door (`run`, `migrate`).
    pub door: &'static str,
    /// `--json`: no human text on stderr.
    pub json: bool,
    /// `--allow-production` was given.
    pub allow_production: bool,
    /// What is guarded, for sentences: "this command", "these migrations".
    pub what: &'a str,
    /// The snapshot to take instead of the plan's (None: the plan's).
    pub snapshot: Option<SnapshotNeed>,
    /// Take the snapshot even when the policy would allow without one.
    pub always_snapshot: bool,
    /// The safe way to the same goal, shown when blocked.
    pub safe_alternative: String,
    /// The command a person runs to lift a production block, for the message.
    pub lift_command: String,
    /// Names the snapshot's trigger ("dbguard run").
    pub label: &'a str,
    /// The approval code the caller names (MCP): only that code may approve the plan, and
    /// a code that does not is refused instead of asked for again.
    pub approval_code: Option<String>,
}

/// What the work reports back.
pub struct Ran {
    pub exit: Result<ChildExit, SpawnError>,
    /// Appended to the audit log's outcome line (what the door verified afterwards).
    pub detail: Option<String>,
}

/// The door's work: runs once consent (and the snapshot) are in place, with the
/// environment prepared for the approved command (see [`approved_environment`]).
pub type Work<'w> = dyn FnMut(&[(String, String)]) -> Ran + 'w;

/// What happened, for the door to print (`--json` shares these fields).
#[derive(Serialize, Clone)]
pub struct Outcome {
    /// blocked | needs_approval | declined | snapshot_failed | audit_failed | ran | spawn_failed
    pub outcome: &'static str,
    /// The work's exit code, when it ran.
    pub exit_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval: Option<approval::Pending>,
    /// The approval code that was used up, when one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_used: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
    /// `dbguard restore <id>`, when a snapshot was taken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore_command: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safe_alternative: Option<String>,
    /// The process exit code for the door.
    #[serde(skip)]
    pub code: u8,
}

impl Outcome {
    fn new(outcome: &'static str, code: u8) -> Self {
        Outcome {
            outcome,
            exit_code: None,
            approval: None,
            approval_used: None,
            snapshot: None,
            verification: None,
            restore_command: None,
            message: None,
            safe_alternative: None,
            code,
        }
    }
}

#[derive(Serialize, Clone)]
pub struct SnapshotInfo {
    pub id: String,
    pub scope: String,
    pub strategy: String,
    pub tables: usize,
    pub rows: u64,
    pub bytes: u64,
    pub duration_ms: u64,
}

/// After the work: each snapshotted table, then and now.
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

/// Guard `plan` and run `work` when the policy and a person allow it.
pub fn execute(plan: &Plan, opts: &Options<'_>, work: &mut Work<'_>) -> anyhow::Result<Outcome> {
    let g = Guarded {
        opts,
        plan,
        db_token: Default::default(),
    };
    match plan.verdict.action {
        Action::Allow => g.go(Consent::Policy, opts.always_snapshot, work),
        Action::Snapshot => g.go(Consent::Policy, true, work),
        Action::Approve => g.approve(work),
        Action::Block => g.block(work),
    }
}

/// How the person (or the policy) said yes.
pub enum Consent {
    /// The policy allows it (allow, snapshot).
    Policy,
    /// An approval code approved by a person with `dbguard approve`.
    Code(String),
    /// A person typed the database name at this terminal.
    Typed,
    /// A person lifted the production block at this terminal.
    ProductionLifted,
}

/// The environment the approved command runs with, beyond the process's own. The one
/// place where consent becomes something the database can check: on a database with the
/// in-database guard (`dbguard protect`), `PGOPTIONS=-c dbguard.approval=<token>` (added to
/// the process's own PGOPTIONS), the token a person's approval wrote into the guard.
pub fn approved_environment(db_token: Option<&str>) -> Vec<(String, String)> {
    match db_token {
        Some(t) => vec![(
            "PGOPTIONS".to_string(),
            crate::protect::approval::pgoptions(std::env::var("PGOPTIONS").ok().as_deref(), t),
        )],
        None => Vec::new(),
    }
}

struct Guarded<'a> {
    opts: &'a Options<'a>,
    plan: &'a Plan,
    /// The in-database guard's approval token for the work's sessions, once a person approved.
    db_token: std::cell::RefCell<Option<String>>,
}

impl Guarded<'_> {
    fn human(&self) -> bool {
        !self.opts.json
    }

    /// Record, and when the log cannot be written say so (the work is not running anyway).
    fn record_refusal(&self, entry: &audit::Entry) {
        if let Err(e) = audit::record(entry) {
            eprintln!("dbguard: warning: {}", redact_text(&format!("{e:#}")));
        }
    }

    fn snapshot_need(&self) -> Option<&SnapshotNeed> {
        self.opts.snapshot.as_ref().or(self.plan.snapshot.as_ref())
    }

    fn approve(&self, work: &mut Work<'_>) -> anyhow::Result<Outcome> {
        let plan = self.plan;
        let what = self.opts.what;
        if let Some(code) = &self.opts.approval_code {
            return match approval::consume_code(plan, code)? {
                Some(ok) if ok.db_token.is_none() && crate::protect::approval::probe_plan(plan).is_some() => {
                    self.approval_misses_the_guard(&ok.code)
                }
                Some(ok) => {
                    *self.db_token.borrow_mut() = ok.db_token.clone();
                    self.go(Consent::Code(ok.code), true, work)
                }
                None => {
                    let msg = format!(
                        "no approval for exactly this plan with code {code}: the user approves with `dbguard approve <code>` \
in their own terminal; a code is used once, expires, and matches only the plan it was given for"
                    );
                    let mut e = audit::Entry::from_plan(plan, self.opts.door);
                    e.outcome = outcome::REFUSED.into();
                    e.approval = Some(approval::normalize_code(code).unwrap_or_else(|| "(not a code)".into()));
                    e.detail = Some(msg.clone());
                    self.record_refusal(&e);
                    let mut r = Outcome::new(outcome::REFUSED, exit::BLOCKED);
                    r.message = Some(msg);
                    Ok(r)
                }
            };
        }
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
            return self.go(Consent::Code(ok.code), true, work);
        }
        match confirm::interactive_human() {
            Ok(()) => {
                let word = plan.confirmation_word();
                eprintln!(
                    "dbguard: DESTRUCTIVE: {what} would destroy data.\n{}",
                    plan.render_text()
                );
                let prompt = format!(
                    "Type the database name ({word}) to {}, or anything else to cancel: ",
                    if self.snapshot_need().and_then(scope_of).is_some() {
                        "take the snapshot and run it"
                    } else {
                        "run it WITHOUT a snapshot"
                    }
                );
                if confirm::typed(&prompt, &word) {
                    self.go(Consent::Typed, true, work)
                } else {
                    let mut e = audit::Entry::from_plan(plan, self.opts.door);
                    e.outcome = outcome::DECLINED.into();
                    self.record_refusal(&e);
                    eprintln!("dbguard: the name did not match: nothing was run");
                    let mut r = Outcome::new(outcome::DECLINED, exit::BLOCKED);
                    r.message = Some("the database name was not typed: nothing was run".into());
                    Ok(r)
                }
            }
            Err(why) => self.ask_for_approval(
                &why,
                &format!("{what} would destroy data, and it did not run."),
                &format!("\n(No prompt here: {why}.)"),
                format!("needs a human's approval; no prompt because {why}"),
            ),
        }
    }

    /// Exit 3 with an approval code for the person: audited, told, reported.
    fn ask_for_approval(&self, why: &str, headline: &str, trailer: &str, message: String) -> anyhow::Result<Outcome> {
        let plan = self.plan;
        let pending = approval::request(plan)?;
        let mut e = audit::Entry::from_plan(plan, self.opts.door);
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
        let mut r = Outcome::new(outcome::NEEDS_APPROVAL, exit::BLOCKED);
        r.message = Some(message);
        r.approval = Some(pending);
        Ok(r)
    }

    /// An approval given without the database's guard (e.g. from a hook, which does not
    /// look at the database): it would be refused inside the database, so nothing runs and
    /// a new code is issued, which `dbguard approve` writes into the guard too.
    fn approval_misses_the_guard(&self, used: &str) -> anyhow::Result<Outcome> {
        let why = format!(
            "approval {used} was given without the database's own guard (dbguard protect), which would refuse the command"
        );
        self.ask_for_approval(&why, &format!("{why}; nothing was run."), "", why.clone())
    }

    fn block(&self, work: &mut Work<'_>) -> anyhow::Result<Outcome> {
        let plan = self.plan;
        let what = self.opts.what;
        let production = plan.target.as_ref().map(|t| t.environment) == Some(Environment::Production);
        let protected = plan.target.as_ref().map(|t| t.protected).unwrap_or(false);
        let mut refusal = None;
        if self.opts.allow_production {
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
                            "dbguard: PRODUCTION: {what} would destroy data.\n{}",
                            plan.render_text()
                        );
                        let first = confirm::typed(
                            &format!("Type the production database name ({word}) to lift the block: "),
                            &word,
                        );
                        let second = first && confirm::typed("Type it once more to confirm: ", &word);
                        if second {
                            return self.go(Consent::ProductionLifted, true, work);
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
        let alternative = self.opts.safe_alternative.clone();
        let mut e = audit::Entry::from_plan(plan, self.opts.door);
        e.outcome = outcome::BLOCKED.into();
        e.detail = refusal.clone();
        self.record_refusal(&e);
        if self.human() {
            eprintln!(
                "dbguard: BLOCKED: {what} would destroy data, and it did not run.\n{}",
                plan.render_text()
            );
            if let Some(r) = &refusal {
                eprintln!("dbguard: {r}");
            }
            eprintln!("Safe alternative: {alternative}");
            if production && !protected && refusal.is_none() {
                eprintln!(
                    "Only a person at a terminal can lift a production block, once: `{}` (asks for the database name twice).",
                    self.opts.lift_command
                );
            }
        }
        let mut r = Outcome::new(outcome::BLOCKED, exit::BLOCKED);
        r.message = Some(refusal.unwrap_or_else(|| plan.verdict.reason.clone()));
        r.safe_alternative = Some(alternative);
        Ok(r)
    }

    /// Snapshot (when required and possible), run, verify, log.
    fn go(&self, consent: Consent, want_snapshot: bool, work: &mut Work<'_>) -> anyhow::Result<Outcome> {
        let plan = self.plan;
        let mut entry = audit::Entry::from_plan(plan, self.opts.door);
        let mut report = Outcome::new(outcome::RAN, exit::OK);
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
                    eprintln!(
                        "dbguard: {msg}\ndbguard: the database's guard would refuse {} without it, so it did NOT run.",
                        self.opts.what
                    );
                    let mut declined = entry.next();
                    declined.outcome = outcome::DECLINED.into();
                    declined.detail = Some(format!("the in-database guard's approval was not given: {msg}"));
                    self.record_refusal(&declined);
                    report.outcome = outcome::DECLINED;
                    report.code = exit::BLOCKED;
                    report.message = Some(format!("the in-database guard's approval was not given: {msg}"));
                    return Ok(report);
                }
            }
        }
        let mut manifest = None;
        if want_snapshot {
            if let Some(scope) = self.snapshot_need().and_then(scope_of) {
                match self.take_snapshot(scope) {
                    Ok(m) => manifest = Some(m),
                    Err(e) => {
                        let msg = redact_text(&format!("{e:#}"));
                        let mut failed = entry.next();
                        failed.outcome = outcome::SNAPSHOT_FAILED.into();
                        failed.detail = Some(msg.clone());
                        self.record_refusal(&failed);
                        eprintln!("dbguard: the snapshot failed, so {} did NOT run: {msg}", self.opts.what);
                        report.outcome = outcome::SNAPSHOT_FAILED;
                        report.code = exit::ERROR;
                        report.message = Some(format!("snapshot failed; {} did not run: {msg}", self.opts.what));
                        return Ok(report);
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
            eprintln!(
                "dbguard: the audit log cannot be written, so {} did NOT run: {msg}",
                self.opts.what
            );
            report.outcome = "audit_failed";
            report.code = exit::ERROR;
            report.message = Some(format!("audit log not writable; {} did not run: {msg}", self.opts.what));
            return Ok(report);
        }
        let env = approved_environment(self.db_token.borrow().as_deref());
        let t0 = Instant::now();
        let ran = work(&env);
        let mut done = entry.next();
        let code = match ran.exit {
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
                eprint!("{}", render_verification(&v, m, code, elapsed, self.opts.what));
            }
            done.detail = Some(format!(
                "{} row(s) lost in {} table(s) compared with the snapshot",
                v.rows_lost,
                v.tables.iter().filter(|c| c.rows_after != Some(c.rows_before)).count()
            ));
            report.verification = Some(v);
        } else if self.human() && want_snapshot && manifest.is_none() {
            eprintln!(
                "dbguard: no snapshot was taken for {}; nothing to verify against.",
                self.opts.what
            );
        }
        if let Some(extra) = ran.detail {
            done.detail = Some(match done.detail.take() {
                Some(d) => format!("{d}; {extra}"),
                None => extra,
            });
        }
        if let Err(e) = audit::record(&done) {
            eprintln!("dbguard: warning: {}", redact_text(&format!("{e:#}")));
        }
        report.code = code;
        Ok(report)
    }

    fn take_snapshot(&self, scope: SnapshotScope) -> anyhow::Result<Manifest> {
        let t = self
            .plan
            .target
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("no database target was resolved"))?;
        if self.human() {
            eprintln!(
                "dbguard: taking a snapshot ({}) before running {}...",
                scope.describe(),
                self.opts.what
            );
        }
        snapshot::take(
            t,
            scope,
            Strategy::Auto,
            Some(self.opts.label.to_string()),
            Some(self.plan.display.clone()),
            self.human(),
        )
    }
}

/// The snapshot scope a need asks for; None when no snapshot is possible.
pub fn scope_of(need: &SnapshotNeed) -> Option<SnapshotScope> {
    match need {
        SnapshotNeed::Database => Some(SnapshotScope::Database),
        SnapshotNeed::Schemas { names } => Some(SnapshotScope::Schema(names.clone())),
        SnapshotNeed::Tables { names } => Some(SnapshotScope::Tables(names.clone())),
        SnapshotNeed::NotPossible { .. } => None,
    }
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

fn render_verification(v: &Verification, m: &Manifest, code: u8, elapsed: Duration, what: &str) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let subject = if what == "this command" {
        "the command"
    } else {
        "the migration tool"
    };
    let _ = writeln!(
        s,
        "\ndbguard: {subject} exited with {code} after {:.1} s; compared with snapshot {}:",
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
pub fn current_counts(target: &crate::target::ResolvedTarget) -> anyhow::Result<BTreeMap<String, u64>> {
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
