//! Human and JSON renderings of findings and targets, shared by every command so
//! the same facts read the same way everywhere (check, lint, run, hook).

use std::fmt::Write;

use dbguard_core::redact::redact_text;
use dbguard_core::{Finding, FindingKind, Scope, Severity};
use serde::Serialize;

use crate::target::ResolvedTarget;

/// A finding as printed in `--json` (statement and object redacted).
#[derive(Serialize)]
pub struct FindingJson<'a> {
    pub kind: &'static str,
    pub object: Option<String>,
    pub detail: String,
    pub statement: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub tool: Option<&'a str>,
    pub scope: &'a Scope,
    pub cascade: bool,
    pub severity: Severity,
}

impl<'a> From<&'a Finding> for FindingJson<'a> {
    fn from(f: &'a Finding) -> Self {
        FindingJson {
            kind: f.kind.as_str(),
            object: f.object.as_deref().map(redact_text),
            detail: redact_text(&f.detail),
            statement: f.statement.as_deref().map(redact_text),
            line: f.location.map(|l| l.line),
            column: f.location.map(|l| l.column),
            tool: f.tool.as_deref(),
            scope: &f.scope,
            cascade: f.cascade,
            severity: f.severity,
        }
    }
}

/// A short label for a finding kind, for humans.
pub fn kind_label(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::DropDatabase => "DROP DATABASE",
        FindingKind::ResetDatabase => "RESET DATABASE",
        FindingKind::DropSchema => "DROP SCHEMA",
        FindingKind::DropTable => "DROP TABLE",
        FindingKind::DropOwned => "DROP OWNED",
        FindingKind::DropExtension => "DROP EXTENSION CASCADE",
        FindingKind::Truncate => "TRUNCATE",
        FindingKind::DeleteAll => "DELETE ALL ROWS",
        FindingKind::UpdateAll => "UPDATE ALL ROWS",
        FindingKind::DataModifyingCte => "DATA-MODIFYING CTE",
        FindingKind::DropColumn => "DROP COLUMN",
        FindingKind::AlterColumnType => "ALTER COLUMN TYPE",
        FindingKind::SchemaSync => "SCHEMA SYNC",
        FindingKind::MigrationRollback => "MIGRATION ROLLBACK",
        FindingKind::DeleteFiles => "DELETE FILES",
        FindingKind::DeleteVolume => "DELETE VOLUME",
        FindingKind::FlushStore => "FLUSH STORE",
        FindingKind::Unknown => "UNKNOWN EFFECT",
        FindingKind::Unparseable => "UNPARSEABLE",
        FindingKind::GuardSettings => "CHANGES DBGUARD'S OWN SETTINGS",
        FindingKind::DeleteCloudDatabase => "DELETE CLOUD DATABASE",
    }
}

/// One line per target fact: where, which environment and why.
pub fn render_target(t: &ResolvedTarget) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "  database:    {}  (from {})", t.shown(), t.source);
    let _ = writeln!(
        s,
        "  environment: {}{}  ({})",
        t.environment.as_str(),
        if t.protected { ", protected" } else { "" },
        t.environment_rule
    );
    for w in &t.warnings {
        let _ = writeln!(s, "  warning:     {}", redact_text(w));
    }
    s
}

/// The block printed when something destructive was found.
pub fn render_findings(findings: &[Finding], target: Option<&ResolvedTarget>) -> String {
    let mut s = String::new();
    let unknown_only = findings.iter().all(|f| f.severity == Severity::Unknown);
    if unknown_only {
        let _ = writeln!(
            s,
            "RISKY: dbguard cannot tell what this would do, so it counts as destructive."
        );
    } else {
        let _ = writeln!(s, "DESTRUCTIVE: this would destroy data.");
    }
    if let Some(t) = target {
        s.push_str(&render_target(t));
    }
    for f in findings {
        let mut head = format!("  - {}", kind_label(f.kind));
        if let Some(o) = &f.object {
            let _ = write!(head, " {}", redact_text(o));
        }
        if f.cascade {
            head.push_str(" (CASCADE)");
        }
        if let Some(l) = f.location {
            let _ = write!(head, "  at {}:{}", l.line, l.column);
        }
        if let Some(tool) = &f.tool {
            let _ = write!(head, "  [{tool}]");
        }
        let _ = writeln!(s, "{head}");
        let _ = writeln!(s, "      {}", redact_text(&f.detail));
    }
    s
}

/// The safe alternative and the exact next step after `check` found something.
pub fn next_step_for_check(text: &str, url: Option<&str>, sql: bool) -> String {
    if sql {
        "Next step: take a snapshot first (`dbguard snapshot`), or write a migration that keeps the data; \
run it through `dbguard run -- <command>` so it is snapshotted and verified."
            .to_string()
    } else {
        format!(
            "Next step: run it as `{}`{}: dbguard measures the damage, takes a snapshot, \
and asks a human before it runs (production stays blocked).",
            run_line(text, url),
            password_note(url)
        )
    }
}

/// The next step after `check` when what it found cannot be snapshotted by dbguard (a
/// database held by a provider, a data directory): the provider's own safeguard first.
pub fn next_step_without_snapshot(text: &str, url: Option<&str>, safeguard: &str) -> String {
    format!(
        "Next step: dbguard cannot snapshot this. Before anything else, {safeguard}. Then, if it must go, run it as \
`{}`{}: a human approves it first (production stays blocked).",
        run_line(text, url),
        password_note(url)
    )
}

/// `dbguard run [--url URL] -- COMMAND`, redacted: the `--url` that `check` was given must
/// go to `run` too, or `run` would resolve another database.
fn run_line(text: &str, url: Option<&str>) -> String {
    let cmd = redact_text(text.trim());
    match url {
        Some(u) => format!("dbguard run --url '{}' -- {cmd}", redact_text(u)),
        None => format!("dbguard run -- {cmd}"),
    }
}

/// Said after a run line whose URL lost its password to redaction.
fn password_note(url: Option<&str>) -> &'static str {
    match url {
        Some(u) if redact_text(u) != u => " (with the URL's password in place of ***)",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_step_keeps_the_url_check_was_given_without_its_password() {
        let s = next_step_for_check("dropdb shop", Some("postgres://u:s3cret@db/shop"), false);
        assert!(
            s.contains("dbguard run --url 'postgres://u:***@db/shop' -- dropdb shop"),
            "{s}"
        );
        assert!(s.contains("password in place of ***"), "{s}");
        assert!(!s.contains("s3cret"), "{s}");
        let s = next_step_for_check("dropdb shop", None, false);
        assert!(s.contains("`dbguard run -- dropdb shop`:"), "{s}");
    }
}
