//! diesel CLI: `database reset|drop`, `migration revert|redo`.

use crate::finding::{FindingKind, Scope};
use crate::target::TargetHint;

use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "diesel",
    programs: &["diesel"],
    engine: None,
    destructive_potential: true,
    recognize,
};

const SPEC: Spec = Spec {
    short: "",
    long: &["database-url", "migration-dir", "config-file", "locked-schema"],
    ..Spec::DEFAULT
};

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    let hint = TargetHint {
        url: a.value(&["--database-url"]).map(str::to_string),
        ..TargetHint::default()
    };
    if a.help() || a.has(&["-h"]) {
        return Outcome::db(Vec::new(), hint);
    }
    let (kind, detail) = match (a.p(0), a.p(1)) {
        ("database", "reset") => (
            FindingKind::ResetDatabase,
            "diesel database reset drops the database and re-runs all migrations",
        ),
        ("database", "drop") => (FindingKind::DropDatabase, "diesel database drop drops the database"),
        ("migration", "revert") => (
            FindingKind::MigrationRollback,
            "diesel migration revert runs the last migration's down.sql",
        ),
        ("migration", "redo") => (
            FindingKind::MigrationRollback,
            "diesel migration redo runs down.sql then up.sql: data in affected tables is lost",
        ),
        _ => return Outcome::db(Vec::new(), hint),
    };
    Outcome::db(
        vec![inv.finding("diesel", kind, None, detail.into(), Scope::Database)],
        hint,
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;

    #[test]
    fn recognizes() {
        assert_eq!(run(&RECOGNIZER, "diesel database reset"), [FindingKind::ResetDatabase]);
        assert_eq!(
            run(&RECOGNIZER, "diesel database drop --database-url x"),
            [FindingKind::DropDatabase]
        );
        assert_eq!(
            run(&RECOGNIZER, "diesel migration redo"),
            [FindingKind::MigrationRollback]
        );
        assert!(run(&RECOGNIZER, "diesel migration run").is_empty());
        assert!(run(&RECOGNIZER, "diesel setup").is_empty());
    }
}
