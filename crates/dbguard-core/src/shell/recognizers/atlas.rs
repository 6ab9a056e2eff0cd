//! Atlas: `schema clean` drops everything; `schema apply --auto-approve` applies a diff
//! (drops included) without review; `migrate down` reverts.

use crate::finding::{FindingKind, Scope};
use crate::target::TargetHint;

use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "atlas",
    programs: &["atlas"],
    engine: None,
    destructive_potential: true,
    recognize,
};

const SPEC: Spec = Spec {
    short: "uc",
    long: &[
        "url", "to", "dev-url", "env", "config", "schema", "var", "dir", "format",
    ],
    ..Spec::DEFAULT
};

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    let hint = TargetHint {
        url: a.value(&["-u", "--url"]).map(str::to_string),
        ..TargetHint::default()
    };
    if a.help() || a.has(&["-h", "--dry-run"]) {
        return Outcome::db(Vec::new(), hint);
    }
    let (kind, detail) = match (a.p(0), a.p(1)) {
        ("schema", "clean") => (
            FindingKind::ResetDatabase,
            "atlas schema clean drops every object in the database or schema",
        ),
        ("schema", "apply") if a.has(&["--auto-approve"]) => (
            FindingKind::SchemaSync,
            "atlas schema apply --auto-approve applies the diff, drops included, without review",
        ),
        ("migrate", "down") => (
            FindingKind::MigrationRollback,
            "atlas migrate down reverts applied migrations",
        ),
        _ => return Outcome::db(Vec::new(), hint),
    };
    Outcome::db(
        vec![inv.finding("atlas", kind, None, detail.into(), Scope::Database)],
        hint,
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;

    #[test]
    fn recognizes() {
        assert_eq!(
            run(&RECOGNIZER, "atlas schema clean -u postgres://x"),
            [FindingKind::ResetDatabase]
        );
        assert_eq!(
            run(&RECOGNIZER, "atlas schema apply --auto-approve"),
            [FindingKind::SchemaSync]
        );
        assert!(run(&RECOGNIZER, "atlas schema inspect -u x").is_empty());
        assert!(run(&RECOGNIZER, "atlas migrate apply").is_empty());
    }
}
