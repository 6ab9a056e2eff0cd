//! Laravel artisan (`php artisan X`, `./artisan X`, `sail artisan X`).
//! `--pretend` only prints the queries.

use crate::finding::{FindingKind, Scope};
use crate::target::TargetHint;

use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "artisan",
    programs: &["artisan"],
    engine: None,
    destructive_potential: true,
    recognize,
};

const SPEC: Spec = Spec {
    short: "",
    long: &["database", "env", "path", "step", "seeder", "execute"],
    ..Spec::DEFAULT
};

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    let hint = TargetHint {
        dbname: a.value(&["--database"]).map(str::to_string),
        ..TargetHint::default()
    };
    if a.help() || a.has(&["-h", "--pretend"]) {
        return Outcome::db(Vec::new(), hint);
    }
    use FindingKind::*;
    let (kind, what) = match a.p(0) {
        "migrate:fresh" => (ResetDatabase, "drops every table and re-runs all migrations"),
        "migrate:refresh" => (
            ResetDatabase,
            "rolls back every migration and re-runs them: all data in migrated tables is lost",
        ),
        "migrate:reset" => (
            MigrationRollback,
            "rolls back every migration, dropping what they created",
        ),
        "migrate:rollback" => (
            MigrationRollback,
            "rolls back the last migration batch, which usually drops what it created",
        ),
        "db:wipe" => (ResetDatabase, "drops every table, view and type"),
        "tinker" => {
            // `tinker --execute=CODE`, or code on stdin: scanned for destructive calls.
            let f = match a.value(&["--execute"]) {
                Some(code) => super::inline_code::finding(inv, "artisan", "artisan tinker --execute", code),
                None => super::inline_code::stdin_finding(inv, "artisan", "artisan tinker"),
            };
            return Outcome::db(f.into_iter().collect(), hint);
        }
        _ => return Outcome::db(Vec::new(), hint),
    };
    let detail = format!("artisan {} {what}", a.p(0));
    Outcome::db(vec![inv.finding("artisan", kind, None, detail, Scope::Database)], hint)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;

    #[test]
    fn recognizes() {
        assert_eq!(
            run(&RECOGNIZER, "artisan migrate:fresh --seed"),
            [FindingKind::ResetDatabase]
        );
        assert_eq!(
            run(&RECOGNIZER, "artisan db:wipe --force"),
            [FindingKind::ResetDatabase]
        );
        assert_eq!(
            run(&RECOGNIZER, "artisan migrate:reset"),
            [FindingKind::MigrationRollback]
        );
        assert!(run(&RECOGNIZER, "artisan migrate").is_empty());
        assert!(run(&RECOGNIZER, "artisan migrate:fresh --pretend").is_empty());
    }
}
