//! knex CLI: `migrate:rollback` (one batch, or `--all`), `migrate:down`; `seed:run` runs the
//! seed files ([`super::seeds`]).

use crate::finding::{FindingKind, Scope};
use crate::target::TargetHint;

use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "knex",
    programs: &["knex"],
    engine: None,
    destructive_potential: true,
    recognize,
};

const SPEC: Spec = Spec {
    short: "",
    long: &[
        "knexfile",
        "env",
        "cwd",
        "client",
        "connection",
        "migrations-directory",
        "specific",
    ],
    ..Spec::DEFAULT
};

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    let hint = TargetHint {
        url: a.value(&["--connection"]).map(str::to_string),
        ..TargetHint::default()
    };
    if a.help() {
        return Outcome::db(Vec::new(), hint);
    }
    let detail = match a.p(0) {
        "migrate:rollback" if a.has(&["--all"]) => {
            "knex migrate:rollback --all reverts every migration batch, dropping what they created"
        }
        "migrate:rollback" => {
            "knex migrate:rollback reverts the last migration batch, which usually drops what it created"
        }
        "migrate:down" => "knex migrate:down reverts the last migration, which usually drops what it created",
        "seed:run" => {
            let findings = super::seeds::knex(inv, a.value(&["--knexfile"]), a.value(&["--specific"]));
            return Outcome::db(findings, hint);
        }
        _ => return Outcome::db(Vec::new(), hint),
    };
    let f = inv.finding(
        "knex",
        FindingKind::MigrationRollback,
        None,
        detail.into(),
        Scope::Database,
    );
    Outcome::db(vec![f], hint)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;

    #[test]
    fn recognizes() {
        assert_eq!(
            run(&RECOGNIZER, "knex migrate:rollback --all"),
            [FindingKind::MigrationRollback]
        );
        assert_eq!(
            run(&RECOGNIZER, "knex migrate:rollback"),
            [FindingKind::MigrationRollback]
        );
        assert!(run(&RECOGNIZER, "knex migrate:latest").is_empty());
        assert!(run(&RECOGNIZER, "knex seed:run").is_empty());
    }
}
