//! Alembic (`alembic downgrade ...`, also Flask-Migrate's `flask db downgrade`).
//! Every downgrade runs `downgrade()` steps, which usually drop what the upgrade created;
//! `--sql` (offline mode) only prints.

use crate::finding::{FindingKind, Scope};
use crate::target::TargetHint;

use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "alembic",
    programs: &["alembic", "flask"],
    engine: None,
    destructive_potential: true,
    recognize,
};

const SPEC: Spec = Spec {
    short: "cnxd",
    long: &["config", "name", "x-arg", "tag", "directory", "app"],
    ..Spec::DEFAULT
};

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    let mut pos: Vec<&str> = a.pos.iter().map(|w| w.text.as_str()).collect();
    if inv.program == "flask" {
        if pos.first() != Some(&"db") {
            return Outcome::default();
        }
        pos.remove(0);
    }
    let hint = TargetHint::default();
    if a.help() || a.has(&["-h"]) || a.has(&["--sql"]) {
        return Outcome::db(Vec::new(), hint);
    }
    let mut findings = Vec::new();
    if pos.first() == Some(&"downgrade") {
        let to = pos.get(1).copied().unwrap_or("-1");
        let detail = if to == "base" {
            "alembic downgrade base reverts every migration, dropping what they created".to_string()
        } else {
            format!("alembic downgrade {to} reverts migrations, which usually drops what they created")
        };
        findings.push(inv.finding(
            "alembic",
            FindingKind::MigrationRollback,
            Some(to.to_string()),
            detail,
            Scope::Database,
        ));
    }
    Outcome::db(findings, hint)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;

    #[test]
    fn recognizes() {
        assert_eq!(
            run(&RECOGNIZER, "alembic downgrade base"),
            [FindingKind::MigrationRollback]
        );
        assert_eq!(
            run(&RECOGNIZER, "alembic -c alembic.ini downgrade -1"),
            [FindingKind::MigrationRollback]
        );
        assert_eq!(run(&RECOGNIZER, "flask db downgrade"), [FindingKind::MigrationRollback]);
        assert!(run(&RECOGNIZER, "alembic upgrade head").is_empty());
        assert!(run(&RECOGNIZER, "alembic downgrade base --sql").is_empty());
        assert!(run(&RECOGNIZER, "flask run").is_empty());
    }
}
