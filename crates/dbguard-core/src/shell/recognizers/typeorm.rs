//! TypeORM CLI (`typeorm`, `typeorm-ts-node-commonjs`, `typeorm-ts-node-esm`, and
//! `ts-node ./node_modules/typeorm/cli.js`, mapped here by the wrapper layer).

use crate::finding::{FindingKind, Scope};
use crate::sql::Dialect;
use crate::target::TargetHint;

use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "typeorm",
    programs: &["typeorm", "typeorm-ts-node-commonjs", "typeorm-ts-node-esm"],
    engine: None,
    destructive_potential: true,
    recognize,
};

const SPEC: Spec = Spec {
    short: "dc",
    long: &["dataSource", "datasource", "connection", "config"],
    ..Spec::DEFAULT
};

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    let hint = TargetHint::default();
    if a.help() || a.has(&["-h"]) {
        return Outcome::db(Vec::new(), hint);
    }
    let t = "typeorm";
    let f = |kind, detail: &str| inv.finding(t, kind, None, detail.to_string(), Scope::Database);
    let findings = match a.p(0) {
        "schema:drop" => vec![f(
            FindingKind::ResetDatabase,
            "typeorm schema:drop drops every table of the data source",
        )],
        "schema:sync" => vec![f(
            FindingKind::SchemaSync,
            "typeorm schema:sync makes the database match the entities, dropping tables and columns they lack",
        )],
        "migration:revert" => vec![f(
            FindingKind::MigrationRollback,
            "typeorm migration:revert runs the last migration's down(), which usually drops what it created",
        )],
        "query" => {
            let sql = a.pos.get(1);
            match sql {
                Some(w) if w.dynamic => vec![inv.unknown(t, "typeorm query runs SQL computed at run time".into())],
                Some(w) => inv.sql(t, &w.text, Dialect::Postgres),
                None => Vec::new(),
            }
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
        assert_eq!(
            run(&RECOGNIZER, "typeorm schema:drop -d src/ds.ts"),
            [FindingKind::ResetDatabase]
        );
        assert_eq!(
            run(&RECOGNIZER, "typeorm-ts-node-commonjs schema:sync"),
            [FindingKind::SchemaSync]
        );
        assert_eq!(
            run(&RECOGNIZER, "typeorm migration:revert"),
            [FindingKind::MigrationRollback]
        );
        assert!(run(&RECOGNIZER, "typeorm migration:run").is_empty());
        assert!(run(&RECOGNIZER, "typeorm schema:log").is_empty());
    }
}
