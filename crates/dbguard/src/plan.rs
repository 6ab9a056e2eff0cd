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
use dbguard_core::redact::redact_text;
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
    Schemas { names: Vec<String> },
    Tables { names: Vec<String> },
    /// Files, volumes, other stores: dbguard cannot snapshot them.
    NotPossible { why: String },
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
    /// Why numbers are missing (unreachable, deadline), when they are.
    pub measure_note: Option<String>,
    pub verdict: Verdict,
    pub snapshot: Option<SnapshotNeed>,
    /// The AI agent detected in this process's environment, if any.
    pub agent: Option<&'static str>,
}

impl Plan {
    pub fn destructive(&self) -> bool {
        self.analysis.is_destructive()
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

/// Load the policy from dbguard.toml (missing or invalid `[policy]` -> built-in defaults
/// for the parts that are missing; an invalid value is reported by `Config::load`).
pub fn load_policy(_cwd: &std::path::Path) -> Policy {
    // TODO(lead): read `[policy]` from dbguard.toml once config lands.
    Policy::default()
}

/// The AI agent whose marker variables this process carries, if any.
pub fn agent_in_env() -> Option<&'static str> {
    let vars: Vec<(String, String)> = std::env::vars().collect();
    dbguard_core::agents::detect(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// Build the plan. Never fails: what cannot be learned is recorded as missing, and the
/// verdict is decided without it (never more lenient because of it).
pub fn build(req: PlanRequest) -> Plan {
    let lookup = FsLookup::new(&req.cwd);
    let analysis = match &req.input {
        Input::Shell(s) => analyze(&Operation::Shell(s), &lookup),
        Input::Sql { text, dialect } => analyze(&Operation::Sql { text, dialect: *dialect }, &lookup),
    };
    let agent = agent_in_env();
    let display = redact_text(req.input.text());
    if !analysis.is_destructive() {
        return Plan {
            display,
            input: req.input,
            cwd: req.cwd,
            impacts: Vec::new(),
            total_rows: None,
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
        };
    }
    let hint = analysis.targets.first().cloned();
    let target = resolve(&ResolveRequest::from_process(req.cli_url.clone(), req.cwd.clone(), hint)).ok();
    let mut impacts = vec![None; analysis.findings.len()];
    let mut total_rows = None;
    let mut measure_note = None;
    if let Measure::Within(deadline) = req.measure {
        match target.as_ref().and_then(|t| t.url.clone()) {
            Some(url) => match crate::impact::measure_plan(&url, &analysis.findings, req.exact, deadline) {
                Ok(m) => {
                    impacts = m.impacts;
                    total_rows = m.total_rows;
                }
                Err(e) => measure_note = Some(redact_text(&format!("impact not measured: {e:#}"))),
            },
            None => measure_note = Some("impact not measured: no database URL resolved".into()),
        }
    }
    let policy = load_policy(&req.cwd);
    let verdict = policy::decide(&policy::Context {
        findings: &analysis.findings,
        environment: target.as_ref().map(|t| t.environment).unwrap_or_default(),
        protected: target.as_ref().map(|t| t.protected).unwrap_or(false),
        contents: Contents { total_rows },
        policy: &policy,
    });
    let snapshot = if verdict.needs_snapshot || verdict.action == Action::Block {
        Some(snapshot_need(&analysis.findings, target.as_ref()))
    } else {
        None
    };
    Plan { display, input: req.input, cwd: req.cwd, analysis, target, impacts, total_rows, measure_note, verdict, snapshot, agent }
}

/// The smallest snapshot that covers every finding.
pub fn snapshot_need(findings: &[Finding], target: Option<&ResolvedTarget>) -> SnapshotNeed {
    use dbguard_core::target::Engine;
    let engine = target.and_then(|t| t.engine);
    match engine {
        Some(Engine::Postgres) | Some(Engine::Sqlite) => {}
        Some(other) => return SnapshotNeed::NotPossible { why: format!("dbguard cannot snapshot {other:?} yet") },
        None => return SnapshotNeed::NotPossible { why: "no database URL resolved".into() },
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
                return SnapshotNeed::NotPossible { why: format!("{} acts outside the database", f.kind.as_str()) };
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
