//! Liquibase: `drop-all` / `dropAll`, and rollbacks (`rollback`, `rollback-count`...).
//! The `*-sql` variants only print.

use crate::finding::{FindingKind, Scope};
use crate::target::TargetHint;

use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "liquibase",
    programs: &["liquibase"],
    engine: None,
    destructive_potential: true,
    recognize,
};

const SPEC: Spec = Spec {
    short: "",
    long: &[
        "url",
        "username",
        "password",
        "changelog-file",
        "changeLogFile",
        "defaults-file",
        "tag",
        "count",
        "date",
    ],
    ..Spec::DEFAULT
};

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    let hint = TargetHint {
        url: a.value(&["--url"]).map(str::to_string),
        user: a.value(&["--username"]).map(str::to_string),
        ..TargetHint::default()
    };
    if a.help() {
        return Outcome::db(Vec::new(), hint);
    }
    let cmd = a.p(0).to_ascii_lowercase().replace('-', "");
    let (kind, detail) = match cmd.as_str() {
        "dropall" => (
            FindingKind::ResetDatabase,
            "liquibase drop-all drops every object in the schema",
        ),
        c if c.starts_with("rollback") && !c.ends_with("sql") => (
            FindingKind::MigrationRollback,
            "liquibase rollback reverts changesets, which usually drops what they created",
        ),
        _ => return Outcome::db(Vec::new(), hint),
    };
    Outcome::db(
        vec![inv.finding("liquibase", kind, None, detail.into(), Scope::Database)],
        hint,
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;

    #[test]
    fn recognizes() {
        assert_eq!(run(&RECOGNIZER, "liquibase drop-all"), [FindingKind::ResetDatabase]);
        assert_eq!(
            run(&RECOGNIZER, "liquibase --url=jdbc:h2:mem dropAll"),
            [FindingKind::ResetDatabase]
        );
        assert_eq!(
            run(&RECOGNIZER, "liquibase rollback-count 2"),
            [FindingKind::MigrationRollback]
        );
        assert!(run(&RECOGNIZER, "liquibase update").is_empty());
        assert!(run(&RECOGNIZER, "liquibase rollback-count-sql 2").is_empty());
    }
}
