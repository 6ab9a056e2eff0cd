//! The plan: the one place where an operation becomes a decision at the edge.
//!
//! Every door (check, run, hook, mcp, migrate, proxy) builds a `Plan` the same way:
//! analyze with the pure core, resolve the target, measure the impact on the live
//! database when asked (bounded by a deadline; a timeout never becomes an allow),
//! and ask the pure policy for a verdict. Doors differ only in how they present the
//! plan and what they do with the verdict.

use std::path::PathBuf;
use std::time::Duration;

use dbguard_core::policy::{self, Action, Contents, Policy, Verdict};
use dbguard_core::redact::{redact_text, Secrets};
use dbguard_core::{analyze, Analysis, Dialect, Finding, FindingKind, Operation, Scope};
use serde::Serialize;

use crate::fs_lookup::FsLookup;
use crate::impact::Impact;
use crate::target::{resolve, ResolveRequest, ResolvedTarget};

/// What to plan.
#[derive(Debug, Clone)]
pub enum Input {
    Shell(String),
    Sql { text: String, dialect: Dialect },
}

impl Input {
    pub fn text(&self) -> &str {
        match self {
            Input::Shell(s) => s,
            Input::Sql { text, .. } => text,
        }
    }
}

/// How much to learn from the live database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Decide from the text and configuration alone (fast path for hooks).
    Skip,
    /// Connect and measure, giving up after the deadline (then decide without numbers).
    Within(Duration),
}

#[derive(Debug, Clone)]
pub struct PlanRequest {
    pub input: Input,
    pub cwd: PathBuf,
    /// `--url` given to dbguard itself.
    pub cli_url: Option<String>,
    pub measure: Measure,
    pub exact: bool,
}

/// What a snapshot before this operation must cover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SnapshotNeed {
    Database,
    Schemas {
        names: Vec<String>,
    },
    Tables {
        names: Vec<String>,
    },
    /// Files, volumes, other stores: dbguard cannot snapshot them.
    NotPossible {
        why: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// The operation as shown to people (secrets redacted).
    pub display: String,
    #[serde(skip)]
    pub input: Input,
    #[serde(skip)]
    pub cwd: PathBuf,
    pub analysis: Analysis,
    pub target: Option<ResolvedTarget>,
    /// Per finding, in the order of `analysis.findings`, when measured.
    pub impacts: Vec<Option<Impact>>,
    /// Total rows in the target database, when measured.
    pub total_rows: Option<i64>,
    /// `total_rows` is an exact count.
    pub total_rows_exact: bool,
    /// Why numbers are missing (unreachable, deadline), when they are.
    pub measure_note: Option<String>,
    pub verdict: Verdict,
    pub snapshot: Option<SnapshotNeed>,
    /// The AI agent detected in this process's environment, if any.
    pub agent: Option<&'static str>,
    /// Why no target could be resolved (e.g. a malformed dbguard.toml), when none was.
    pub target_error: Option<String>,
    /// Remarks about the policy in dbguard.toml (invalid values ignored...).
    pub policy_notes: Vec<String>,
    /// The command line's secrets: whatever a door shows about this plan goes through
    /// [`Plan::redact`].
    #[serde(skip)]
    pub secrets: Secrets,
}

impl Plan {
    pub fn destructive(&self) -> bool {
        self.analysis.is_destructive()
    }

    /// Text about this plan made safe to show: URLs, key=value and command-line password
    /// positions, and the command's secrets wherever they reappear.
    pub fn redact(&self, text: &str) -> String {
        self.secrets.redact(text)
    }

    /// A stable fingerprint of what would be approved: exact command, target and scope.
    /// Approvals are bound to it.
    pub fn fingerprint(&self) -> String {
        let mut h = blake3::Hasher::new();
        h.update(self.input.text().as_bytes());
        h.update(b"\0");
        h.update(self.cwd.to_string_lossy().as_bytes());
        h.update(b"\0");
        if let Some(t) = &self.target {
            h.update(t.url.as_deref().unwrap_or("").as_bytes());
        }
        h.update(b"\0");
        if let Some(s) = &self.snapshot {
            h.update(serde_json::to_string(s).unwrap_or_default().as_bytes());
        }
        h.finalize().to_hex()[..32].to_string()
    }
}

/// The policy from dbguard.toml's `[policy]` (missing parts -> built-in defaults), with
/// remarks about what was ignored. A malformed file or value never makes the policy more
/// lenient: what cannot be read keeps the built-in default.
///
/// ```toml
/// [policy]
/// staging = "snapshot"          # shorthand: the default action for an environment
///
/// [policy.development]
/// default = "approve"           # allow | snapshot | approve | block
/// delete_all = "snapshot"       # per finding kind (snake_case names, see `dbguard check --json`)
/// ```
pub fn policy_with_notes(config: &anyhow::Result<crate::config::Config>) -> (Policy, Vec<String>) {
    match config {
        Ok(cfg) => parse_policy(&cfg.policy),
        Err(e) => (
            Policy::default(),
            vec![redact_text(&format!("policy: built-in defaults used: {e:#}"))],
        ),
    }
}

/// Interpret the raw `[policy]` table.
pub fn parse_policy(table: &toml::Table) -> (Policy, Vec<String>) {
    use dbguard_core::environment::Environment;
    let mut policy = Policy::default();
    let mut notes = Vec::new();
    let action_of = |v: &toml::Value, at: &str, notes: &mut Vec<String>| -> Option<Action> {
        let parsed = match v.as_str().map(|s| s.to_ascii_lowercase()) {
            Some(s) if s == "allow" => Some(Action::Allow),
            Some(s) if s == "snapshot" => Some(Action::Snapshot),
            Some(s) if s == "approve" => Some(Action::Approve),
            Some(s) if s == "block" => Some(Action::Block),
            _ => None,
        };
        if parsed.is_none() {
            notes.push(format!(
                "[policy] {at} = {v}: not one of allow, snapshot, approve, block; ignored"
            ));
        }
        parsed
    };
    for (env_name, value) in table {
        let Some(env) = Environment::from_name(env_name) else {
            notes.push(format!("[policy] unknown environment `{env_name}` ignored"));
            continue;
        };
        let envp = match env {
            Environment::Production => &mut policy.production,
            Environment::Staging => &mut policy.staging,
            Environment::Development => &mut policy.development,
            Environment::Unknown => &mut policy.unknown,
        };
        match value {
            toml::Value::Table(t) => {
                for (key, v) in t {
                    let at = format!("{env_name}.{key}");
                    if key == "default" || key == "destructive" {
                        if let Some(a) = action_of(v, &at, &mut notes) {
                            envp.default = Some(a);
                        }
                    } else if dbguard_core::FindingKind::from_name(key).is_some() {
                        if let Some(a) = action_of(v, &at, &mut notes) {
                            envp.kinds.insert(key.clone(), a);
                        }
                    } else {
                        notes.push(format!("[policy.{env_name}] unknown finding kind `{key}` ignored"));
                    }
                }
            }
            other => {
                if let Some(a) = action_of(other, env_name, &mut notes) {
                    envp.default = Some(a);
                }
            }
        }
    }
    (policy, notes)
}

/// The AI agent whose marker variables this process carries, if any.
pub fn agent_in_env() -> Option<&'static str> {
    let vars: Vec<(String, String)> = std::env::vars().collect();
    dbguard_core::agents::detect(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// Build the plan. Never fails: what cannot be learned is recorded as missing, and the
/// verdict is decided without it (never more lenient because of it).
pub fn build(req: PlanRequest) -> Plan {
    build_inner(req, None)
}

/// Build the plan for a target the door has already resolved (`migrate apply`: the
/// project's database, resolved once for status, plan and apply). The target is kept even
/// when nothing destructive is found, since the door snapshots and verifies it anyway.
pub fn build_for_target(req: PlanRequest, target: ResolvedTarget) -> Plan {
    build_inner(req, Some(target))
}

fn build_inner(req: PlanRequest, given: Option<ResolvedTarget>) -> Plan {
    let lookup = FsLookup::new(&req.cwd);
    let analysis = match &req.input {
        Input::Shell(s) => analyze(&Operation::Shell(s), &lookup),
        Input::Sql { text, dialect } => analyze(
            &Operation::Sql {
                text,
                dialect: *dialect,
            },
            &lookup,
        ),
    };
    let agent = agent_in_env();
    // The one redaction of everything this plan shows: password positions of the command line
    // (word-aware), URLs and key=value secrets, and the command's secrets wherever they reappear.
    let secrets = match &req.input {
        Input::Shell(s) => Secrets::of(s),
        Input::Sql { .. } => Secrets::default(),
    };
    let display = secrets.redact(req.input.text());
    let mut analysis = analysis;
    if !analysis.is_destructive() && given.is_none() {
        for h in &mut analysis.targets {
            h.hide_secrets(&secrets);
        }
        return Plan {
            display,
            input: req.input,
            cwd: req.cwd,
            impacts: Vec::new(),
            total_rows: None,
            total_rows_exact: false,
            measure_note: None,
            verdict: policy::decide(&policy::Context {
                findings: &[],
                environment: Default::default(),
                protected: false,
                contents: Contents::default(),
                policy: &Policy::default(),
            }),
            snapshot: None,
            target: None,
            analysis,
            agent,
            target_error: None,
            policy_notes: Vec::new(),
            secrets,
        };
    }
    let hint = analysis.targets.first().cloned();
    // One read of dbguard.toml for resolution, the policy and the freshness rule. A file
    // that fails to load is passed as None, so resolve reports its error itself.
    let config = crate::config::Config::load(&req.cwd);
    let mut resolve_req = ResolveRequest::from_process(req.cli_url.clone(), req.cwd.clone(), hint);
    resolve_req.config = config.as_ref().ok().cloned();
    let (target, target_error) = match given {
        Some(t) => (Some(t), None),
        None => match resolve(&resolve_req) {
            Ok(mut t) => {
                t.hide_secrets(&secrets);
                (Some(t), None)
            }
            Err(e) => (None, Some(secrets.redact(&format!("{e:#}")))),
        },
    };
    // The hints have served the resolver; what is left of them is only shown.
    for h in &mut analysis.targets {
        h.hide_secrets(&secrets);
    }
    let mut impacts = vec![None; analysis.findings.len()];
    let mut total_rows = None;
    let mut total_rows_exact = false;
    let mut measure_note = None;
    if let Measure::Within(deadline) = req.measure {
        match target.as_ref().filter(|t| t.url.is_some() || t.file.is_some()) {
            Some(t) => match crate::impact::measure_plan(t, &analysis.findings, req.exact, deadline) {
                Ok(m) => {
                    impacts = m.impacts;
                    total_rows = m.total_rows;
                    total_rows_exact = m.total_exact;
                }
                Err(e) => measure_note = Some(redact_text(&format!("impact not measured: {e:#}"))),
            },
            None => measure_note = Some("impact not measured: no database URL resolved".into()),
        }
    }
    let (policy, policy_notes) = policy_with_notes(&config);
    let mut verdict = policy::decide(&policy::Context {
        findings: &analysis.findings,
        environment: target.as_ref().map(|t| t.environment).unwrap_or_default(),
        protected: target.as_ref().map(|t| t.protected).unwrap_or(false),
        contents: Contents {
            total_rows,
            exact: total_rows_exact,
        },
        policy: &policy,
    });
    // `[freshness]`: where the policy would let it run without a snapshot, a required
    // maximum snapshot age still makes dbguard take one first when the newest is older.
    if verdict.action == Action::Allow {
        if let Some(t) = target.as_ref() {
            let max_age = config.as_ref().ok().and_then(|c| c.freshness_for(t.environment));
            if let Some(max) = max_age {
                let fresh = crate::snapshot::newest_for(t)
                    .is_some_and(|s| s.age_seconds >= 0 && (s.age_seconds as u64) < max.as_secs());
                if !fresh {
                    verdict = Verdict {
                        action: Action::Snapshot,
                        reason: format!(
                            "dbguard.toml requires a snapshot younger than {} s for {} databases, and there is none",
                            max.as_secs(),
                            t.environment.as_str()
                        ),
                        rule: format!("freshness.{}", t.environment.as_str()),
                        needs_snapshot: true,
                    };
                }
            }
        }
    }
    let snapshot = if verdict.needs_snapshot || verdict.action == Action::Block {
        Some(snapshot_need(&analysis.findings, target.as_ref()))
    } else {
        None
    };
    if verdict.action == Action::Snapshot {
        if let Some(SnapshotNeed::NotPossible { why }) = &snapshot {
            // "Snapshot, then run" without a snapshot would be a silent allow: ask a human.
            verdict = Verdict {
                action: Action::Approve,
                reason: format!(
                    "{} but no snapshot can be taken ({why}): a human must approve",
                    verdict.reason
                ),
                rule: format!("{} (no snapshot possible)", verdict.rule),
                needs_snapshot: false,
            };
        }
    }
    Plan {
        display,
        input: req.input,
        cwd: req.cwd,
        analysis,
        target,
        impacts,
        total_rows,
        total_rows_exact,
        measure_note,
        verdict,
        snapshot,
        agent,
        target_error,
        policy_notes,
        secrets,
    }
}

/// The plan for SQL whose database is already known (the proxy's upstream): no target
/// resolution and no measurement; the verdict is the policy's for the target's environment.
/// A `snapshot` verdict becomes `approve`: the door that asks cannot take snapshots.
pub fn for_target(text: String, cwd: PathBuf, findings: Vec<Finding>, target: ResolvedTarget) -> Plan {
    let config = crate::config::Config::load(&cwd);
    let (policy, policy_notes) = policy_with_notes(&config);
    let mut verdict = policy::decide(&policy::Context {
        findings: &findings,
        environment: target.environment,
        protected: target.protected,
        contents: Contents::default(),
        policy: &policy,
    });
    if verdict.action == Action::Snapshot {
        verdict = Verdict {
            action: Action::Approve,
            reason: format!(
                "{}, and this door cannot take a snapshot first: a human must approve",
                verdict.reason
            ),
            rule: format!("{} (no snapshot possible)", verdict.rule),
            needs_snapshot: false,
        };
    }
    let count = findings.len();
    Plan {
        display: redact_text(&text),
        input: Input::Sql {
            text,
            dialect: Dialect::Postgres,
        },
        cwd,
        analysis: Analysis {
            findings,
            targets: Vec::new(),
        },
        target: Some(target),
        impacts: vec![None; count],
        total_rows: None,
        total_rows_exact: false,
        measure_note: None,
        verdict,
        snapshot: None,
        agent: None,
        target_error: None,
        policy_notes,
        secrets: Secrets::default(),
    }
}

impl Plan {
    /// What a person types to approve: the database's name (for SQLite, the file name).
    pub fn confirmation_word(&self) -> String {
        let t = self.target.as_ref();
        if let Some(db) = t.and_then(|t| t.database.clone()).filter(|d| !d.is_empty()) {
            return db;
        }
        if let Some(file) = t
            .and_then(|t| t.display.as_deref())
            .filter(|d| !d.contains("://"))
            .and_then(|d| std::path::Path::new(d.trim_start_matches("file:").trim_start_matches("sqlite:")).file_name())
        {
            return file.to_string_lossy().into_owned();
        }
        "unknown-database".to_string()
    }

    /// Why no snapshot can be taken before this runs, when none can.
    pub fn no_snapshot(&self) -> Option<&str> {
        match &self.snapshot {
            Some(SnapshotNeed::NotPossible { why }) => Some(why),
            _ => None,
        }
    }

    /// The provider's own way back for a database held by a provider (or a data
    /// directory): what to check or run before, since dbguard cannot snapshot it.
    pub fn safeguard(&self) -> Option<String> {
        let r = self.target.as_ref()?.resource.as_ref()?;
        Some(format!(
            "keep the {} (do not delete it from here); to keep a copy, {}",
            r.describe(),
            r.safeguard
        ))
    }

    /// Total rows the findings would destroy, when measured.
    pub fn impact_rows(&self) -> Option<i64> {
        let mut sum = None;
        for i in self.impacts.iter().flatten() {
            if let Some(r) = i.rows {
                sum = Some(sum.unwrap_or(0) + r);
            }
        }
        sum
    }

    /// The plan for people: the command, where it would run, what each finding destroys
    /// (tables and rows), the snapshot that would be taken, and the verdict. Redacted.
    pub fn render_text(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(s, "  command:     {}", self.display);
        match &self.target {
            Some(t) => s.push_str(&crate::report::render_target(t)),
            None => {
                let why = self.target_error.as_deref().unwrap_or("no database found");
                let _ = writeln!(s, "  database:    unknown ({why})");
            }
        }
        if let Some(total) = self.total_rows {
            let approx = if self.total_rows_exact { "" } else { "~" };
            let _ = writeln!(s, "  holds:       {approx}{total} rows in total");
        }
        for (i, f) in self.analysis.findings.iter().enumerate() {
            let mut head = format!("  - {}", crate::report::kind_label(f.kind));
            if let Some(o) = &f.object {
                let _ = write!(head, " {}", redact_text(o));
            }
            if f.cascade {
                head.push_str(" (CASCADE)");
            }
            if let Some(tool) = &f.tool {
                let _ = write!(head, "  [{tool}]");
            }
            let _ = writeln!(s, "{head}");
            let _ = writeln!(s, "      {}", redact_text(&f.detail));
            if let Some(Some(imp)) = self.impacts.get(i) {
                let _ = writeln!(s, "      destroys {}", imp.describe());
                for t in &imp.tables {
                    let rows = t.rows.map(|r| format!("{r} rows")).unwrap_or_else(|| "? rows".into());
                    let _ = writeln!(s, "        {:<40} {rows}", redact_text(&t.table));
                }
            }
        }
        if let Some(note) = &self.measure_note {
            let _ = writeln!(s, "  note:        {note}");
        }
        for n in &self.policy_notes {
            let _ = writeln!(s, "  note:        {n}");
        }
        match &self.snapshot {
            Some(SnapshotNeed::Database) => {
                let _ = writeln!(s, "  snapshot:    the whole database, taken before the command runs");
            }
            Some(SnapshotNeed::Schemas { names }) => {
                let _ = writeln!(
                    s,
                    "  snapshot:    schema(s) {}, taken before the command runs",
                    names.join(", ")
                );
            }
            Some(SnapshotNeed::Tables { names }) => {
                let _ = writeln!(
                    s,
                    "  snapshot:    table(s) {}, taken before the command runs",
                    names.join(", ")
                );
            }
            Some(SnapshotNeed::NotPossible { why }) => {
                let _ = writeln!(
                    s,
                    "  snapshot:    NONE POSSIBLE ({why}): what is lost cannot be restored by dbguard"
                );
            }
            None => {}
        }
        let _ = writeln!(
            s,
            "  verdict:     {}: {}  ({})",
            self.verdict.action.as_str(),
            self.verdict.reason,
            self.verdict.rule
        );
        if let Some(a) = self.agent {
            let _ = writeln!(s, "  agent:       {a} (detected from its environment variables)");
        }
        s
    }
}

/// The smallest snapshot that covers every finding.
pub fn snapshot_need(findings: &[Finding], target: Option<&ResolvedTarget>) -> SnapshotNeed {
    use dbguard_core::target::Engine;
    if let Some(res) = target.and_then(|t| t.resource.as_ref()) {
        // A database held by a provider, or a data directory: no connection to snapshot through.
        return SnapshotNeed::NotPossible {
            why: format!(
                "dbguard cannot snapshot the {}; first, {}",
                res.describe(),
                res.safeguard
            ),
        };
    }
    let engine = target.and_then(|t| t.engine);
    match engine {
        Some(Engine::Postgres) | Some(Engine::Sqlite) => {}
        Some(other) => {
            return SnapshotNeed::NotPossible {
                why: format!("dbguard cannot snapshot {other:?} yet"),
            }
        }
        None => {
            return SnapshotNeed::NotPossible {
                why: "no database URL resolved".into(),
            }
        }
    }
    let mut tables: Vec<String> = Vec::new();
    let mut schemas: Vec<String> = Vec::new();
    for f in findings {
        match &f.scope {
            Scope::Database => return SnapshotNeed::Database,
            Scope::External => {
                // Deleting a SQLite file: the file itself is the database.
                if f.kind == FindingKind::DeleteFiles && engine == Some(Engine::Sqlite) {
                    return SnapshotNeed::Database;
                }
                return SnapshotNeed::NotPossible {
                    why: format!("{} acts outside the database", f.kind.as_str()),
                };
            }
            Scope::Schemas { names } => schemas.extend(names.iter().cloned()),
            Scope::Tables { names } => tables.extend(names.iter().cloned()),
        }
    }
    if engine == Some(Engine::Sqlite) {
        // A SQLite snapshot is the whole file: cheap and simplest to restore.
        return SnapshotNeed::Database;
    }
    if !schemas.is_empty() {
        schemas.sort();
        schemas.dedup();
        if tables.is_empty() {
            return SnapshotNeed::Schemas { names: schemas };
        }
        return SnapshotNeed::Database;
    }
    tables.sort();
    tables.dedup();
    if tables.is_empty() {
        SnapshotNeed::Database
    } else {
        SnapshotNeed::Tables { names: tables }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_from_toml() {
        let t: toml::Table = toml::from_str(
            "staging = \"snapshot\"\n[development]\ndefault = \"block\"\ndelete_all = \"allow\"\nbogus = \"allow\"\ntruncate = \"nope\"\n[production]\ndefault = \"allow\"\n[moon]\ndefault = \"allow\"\n",
        )
        .unwrap_or_default();
        let (p, notes) = parse_policy(&t);
        assert_eq!(p.staging.default, Some(Action::Snapshot));
        assert_eq!(p.development.default, Some(Action::Block));
        assert_eq!(p.development.kinds.get("delete_all"), Some(&Action::Allow));
        assert!(!p.development.kinds.contains_key("truncate"));
        assert_eq!(p.production.default, Some(Action::Allow));
        assert_eq!(notes.len(), 3, "{notes:?}");
    }
}
