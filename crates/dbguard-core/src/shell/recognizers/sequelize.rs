//! sequelize-cli: `db:drop`, `db:migrate:undo[:all]`; `db:seed[:all]` and `db:seed:undo[:all]`
//! run the seeders' `up` / `down` ([`super::seeds`]).

use crate::finding::{FindingKind, Scope};
use crate::target::TargetHint;

use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "sequelize",
    programs: &["sequelize", "sequelize-cli"],
    engine: None,
    destructive_potential: true,
    recognize,
};

const SPEC: Spec = Spec {
    short: "",
    long: &[
        "url",
        "env",
        "config",
        "to",
        "name",
        "options-path",
        "migrations-path",
        "seeders-path",
        "seed",
    ],
    ..Spec::DEFAULT
};

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    let hint = TargetHint {
        url: a.value(&["--url"]).map(str::to_string),
        ..TargetHint::default()
    };
    if a.help() {
        return Outcome::db(Vec::new(), hint);
    }
    let t = "sequelize";
    let f = |kind, detail: String| inv.finding(t, kind, None, detail, Scope::Database);
    let findings = match a.p(0) {
        "db:drop" => vec![f(
            FindingKind::DropDatabase,
            "sequelize db:drop drops the configured database".into(),
        )],
        "db:migrate:undo:all" => vec![f(
            FindingKind::MigrationRollback,
            "sequelize db:migrate:undo:all reverts every migration, dropping the tables they created".into(),
        )],
        "db:migrate:undo" => vec![f(
            FindingKind::MigrationRollback,
            "sequelize db:migrate:undo reverts the last migration, which usually drops what it created".into(),
        )],
        "db:seed" | "db:seed:all" => {
            super::seeds::sequelize(inv, a.value(&["--seeders-path"]), a.value(&["--seed"]), false)
        }
        "db:seed:undo" | "db:seed:undo:all" => {
            super::seeds::sequelize(inv, a.value(&["--seeders-path"]), a.value(&["--seed"]), true)
        }
        _ => Vec::new(),
    };
    Outcome::db(findings, hint)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;

    #[test]
    fn recognizes() {
        assert_eq!(run(&RECOGNIZER, "sequelize db:drop"), [FindingKind::DropDatabase]);
        assert_eq!(
            run(&RECOGNIZER, "sequelize-cli db:migrate:undo:all --env test"),
            [FindingKind::MigrationRollback]
        );
        assert!(run(&RECOGNIZER, "sequelize db:migrate").is_empty());
        assert!(run(&RECOGNIZER, "sequelize db:seed:all").is_empty());
    }
}
