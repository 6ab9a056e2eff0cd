//! Flyway: `clean` drops every object of the configured schemas.
//! (`undo` is a paid-edition rollback; flagged as a rollback.)

use crate::finding::{FindingKind, Scope};
use crate::target::TargetHint;

use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "flyway",
    programs: &["flyway"],
    engine: None,
    destructive_potential: true,
    recognize,
};

const SPEC: Spec = Spec {
    short: "",
    long: &[],
    ..Spec::SINGLE
};

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    let hint = TargetHint {
        url: a.value(&["-url", "--url"]).map(str::to_string),
        user: a.value(&["-user", "--user"]).map(str::to_string),
        ..TargetHint::default()
    };
    if a.has(&["-help", "--help", "-?"]) || a.p(0) == "help" {
        return Outcome::db(Vec::new(), hint);
    }
    let mut findings = Vec::new();
    for w in &a.pos {
        let (kind, detail) = match w.text.as_str() {
            "clean" => (
                FindingKind::ResetDatabase,
                "flyway clean drops every object in the configured schemas",
            ),
            "undo" => (
                FindingKind::MigrationRollback,
                "flyway undo reverts the last versioned migration",
            ),
            _ => continue,
        };
        findings.push(inv.finding("flyway", kind, None, detail.into(), Scope::Database));
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
            run(&RECOGNIZER, "flyway -url=jdbc:postgresql://db/app clean"),
            [FindingKind::ResetDatabase]
        );
        assert_eq!(run(&RECOGNIZER, "flyway clean migrate"), [FindingKind::ResetDatabase]);
        assert!(run(&RECOGNIZER, "flyway migrate").is_empty());
        assert!(run(&RECOGNIZER, "flyway info").is_empty());
    }
}
