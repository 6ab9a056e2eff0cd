//! Supabase CLI: `db reset` (local by default, the remote project with `--linked`),
//! `migration down`.

use crate::finding::{FindingKind, Scope};
use crate::target::{Engine, TargetHint};

use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "supabase",
    programs: &["supabase"],
    engine: Some(Engine::Postgres),
    destructive_potential: true,
    recognize,
};

const SPEC: Spec = Spec {
    short: "p",
    long: &["db-url", "workdir", "version", "password", "last", "project-ref"],
    ..Spec::DEFAULT
};

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    let hint = TargetHint {
        url: a.value(&["--db-url"]).map(str::to_string),
        ..TargetHint::default()
    };
    if a.help() || a.has(&["-h", "--dry-run"]) {
        return Outcome::db(Vec::new(), hint);
    }
    let where_ = if a.has(&["--linked"]) {
        "the linked remote project's database"
    } else if a.has(&["--db-url"]) {
        "the database at --db-url"
    } else {
        "the local database"
    };
    let (kind, detail) = match (a.p(0), a.p(1)) {
        ("db", "reset") => (
            FindingKind::ResetDatabase,
            format!("supabase db reset drops and recreates {where_}, re-applying migrations and seeds"),
        ),
        ("migration", "down") => (
            FindingKind::MigrationRollback,
            format!("supabase migration down reverts migrations on {where_}"),
        ),
        _ => return Outcome::db(Vec::new(), hint),
    };
    Outcome::db(vec![inv.finding("supabase", kind, None, detail, Scope::Database)], hint)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;

    #[test]
    fn recognizes() {
        assert_eq!(run(&RECOGNIZER, "supabase db reset"), [FindingKind::ResetDatabase]);
        assert_eq!(
            run(&RECOGNIZER, "supabase db reset --linked"),
            [FindingKind::ResetDatabase]
        );
        assert!(run(&RECOGNIZER, "supabase db push").is_empty());
        assert!(run(&RECOGNIZER, "supabase start").is_empty());
    }
}
