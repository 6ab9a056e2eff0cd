//! sqlx-cli: `database reset|drop` (alias `db`), `migrate revert`.

use crate::finding::{FindingKind, Scope};
use crate::target::TargetHint;

use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "sqlx",
    programs: &["sqlx", "cargo-sqlx"],
    engine: None,
    destructive_potential: true,
    recognize,
};

const SPEC: Spec = Spec {
    short: "D",
    long: &["database-url", "source", "target-version", "connect-timeout"],
    ..Spec::DEFAULT
};

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    let hint = TargetHint {
        url: a.value(&["-D", "--database-url"]).map(str::to_string),
        ..TargetHint::default()
    };
    if a.help() || a.has(&["-h"]) || a.has(&["--dry-run"]) {
        return Outcome::db(Vec::new(), hint);
    }
    let pos: Vec<&str> = a
        .pos
        .iter()
        .map(|w| w.text.as_str())
        .skip_while(|p| *p == "sqlx")
        .collect();
    let (kind, detail) = match (pos.first().copied(), pos.get(1).copied()) {
        (Some("database" | "db"), Some("reset")) => (
            FindingKind::ResetDatabase,
            "sqlx database reset drops and recreates the database, then re-runs migrations",
        ),
        (Some("database" | "db"), Some("drop")) => (FindingKind::DropDatabase, "sqlx database drop drops the database"),
        (Some("migrate"), Some("revert")) => (
            FindingKind::MigrationRollback,
            "sqlx migrate revert runs the last migration's down script",
        ),
        _ => return Outcome::db(Vec::new(), hint),
    };
    Outcome::db(
        vec![inv.finding("sqlx", kind, None, detail.into(), Scope::Database)],
        hint,
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;

    #[test]
    fn recognizes() {
        assert_eq!(run(&RECOGNIZER, "sqlx database reset -y"), [FindingKind::ResetDatabase]);
        assert_eq!(run(&RECOGNIZER, "sqlx db drop"), [FindingKind::DropDatabase]);
        assert_eq!(
            run(&RECOGNIZER, "cargo-sqlx sqlx database drop"),
            [FindingKind::DropDatabase]
        );
        assert!(run(&RECOGNIZER, "sqlx migrate run").is_empty());
        assert!(run(&RECOGNIZER, "sqlx database create").is_empty());
    }
}
