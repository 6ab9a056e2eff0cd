//! Turso CLI: destroying databases and groups, and SQL through `turso db shell` (the
//! SQLite core).

use crate::finding::FindingKind;
use crate::sql::Dialect;
use crate::target::Engine;

use super::cloud;
use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "turso",
    programs: &["turso"],
    engine: None,
    destructive_potential: true,
    recognize,
};

const SPEC: Spec = Spec {
    short: "",
    long: &["group", "location", "instance"],
    ..Spec::DEFAULT
};

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    if a.help() || a.has(&["-h"]) {
        return Outcome::default();
    }
    let name = Some(a.p(2)).filter(|s| !s.is_empty());
    let safeguard = format!(
        "copy it first (`turso db create {0}-backup --from-db {0}`); point-in-time restore works only within the plan's retention",
        name.unwrap_or("NAME")
    );
    let kind = match (a.p(0), a.p(1)) {
        ("db", "destroy" | "delete") => "database",
        ("group", "destroy" | "delete") => "group",
        ("db", "shell") => {
            let res = cloud::resource("Turso", "database", name, Vec::new(), safeguard);
            let mut findings = Vec::new();
            let sql: Vec<&str> = a.pos.iter().skip(3).map(|w| w.text.as_str()).collect();
            if sql.is_empty() {
                findings.extend(inv.stdin_sql("turso", Dialect::Sqlite, super::plain_sql));
            } else {
                findings.extend(inv.sql("turso", &sql.join(" "), Dialect::Sqlite));
            }
            return cloud::on(findings, res, Some(Engine::Sqlite));
        }
        _ => return Outcome::default(),
    };
    let detail = format!(
        "turso {} {} deletes the {kind} and every database and row in it",
        a.p(0),
        a.p(1)
    );
    let res = cloud::resource("Turso", kind, name, Vec::new(), safeguard);
    cloud::delete(inv, "turso", FindingKind::DeleteCloudDatabase, res, detail)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;

    #[test]
    fn recognizes() {
        assert_eq!(
            run(&RECOGNIZER, "turso db destroy shop --yes"),
            [FindingKind::DeleteCloudDatabase]
        );
        assert_eq!(
            run(&RECOGNIZER, "turso db shell shop 'DELETE FROM orders'"),
            [FindingKind::DeleteAll]
        );
        for c in [
            "turso db list",
            "turso db shell shop 'SELECT 1'",
            "turso db create shop",
        ] {
            assert!(run(&RECOGNIZER, c).is_empty(), "{c}");
        }
    }
}
