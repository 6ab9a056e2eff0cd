//! MikroORM CLI: `schema:drop`, `schema:fresh`, `schema:update --run`, `migration:down|fresh`.
//!
//! `schema:update --run --safe` (no table or column drops) is not flagged; `--dump`
//! alone only prints the SQL.

use crate::finding::{FindingKind, Scope};
use crate::target::TargetHint;

use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "mikro-orm",
    programs: &["mikro-orm", "mikro-orm-esm"],
    engine: None,
    destructive_potential: true,
    recognize,
};

const SPEC: Spec = Spec {
    short: "",
    long: &["config", "schema", "seed", "to", "from", "only"],
    ..Spec::DEFAULT
};

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    let hint = TargetHint::default();
    if a.help() {
        return Outcome::db(Vec::new(), hint);
    }
    let run = a.has(&["--run", "-r"]);
    let (kind, detail) = match a.p(0) {
        "schema:drop" if run => (
            FindingKind::ResetDatabase,
            "mikro-orm schema:drop --run drops every table of the schema",
        ),
        "schema:fresh" if run => (
            FindingKind::ResetDatabase,
            "mikro-orm schema:fresh --run drops and recreates the whole schema",
        ),
        "schema:update" if run && !a.has(&["--safe"]) => (
            FindingKind::SchemaSync,
            "mikro-orm schema:update --run applies the schema diff, dropping tables and columns the entities lack",
        ),
        "migration:fresh" => (
            FindingKind::ResetDatabase,
            "mikro-orm migration:fresh drops the whole schema and re-runs all migrations",
        ),
        "migration:down" => (
            FindingKind::MigrationRollback,
            "mikro-orm migration:down reverts migrations, which usually drops what they created",
        ),
        _ => return Outcome::db(Vec::new(), hint),
    };
    Outcome::db(
        vec![inv.finding("mikro-orm", kind, None, detail.into(), Scope::Database)],
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
            run(&RECOGNIZER, "mikro-orm schema:drop --run"),
            [FindingKind::ResetDatabase]
        );
        assert_eq!(
            run(&RECOGNIZER, "mikro-orm schema:fresh -r --seed"),
            [FindingKind::ResetDatabase]
        );
        assert_eq!(
            run(&RECOGNIZER, "mikro-orm schema:update --run"),
            [FindingKind::SchemaSync]
        );
        assert!(run(&RECOGNIZER, "mikro-orm schema:update --run --safe").is_empty());
        assert!(run(&RECOGNIZER, "mikro-orm schema:drop --dump").is_empty());
    }
}
