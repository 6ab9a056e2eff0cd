//! drizzle-kit: `push` syncs the live schema to the code, dropping what the code lacks.
//!
//! Plain `push` is a [`FindingKind::SchemaSync`]: it computes drops at run time and only
//! asks on a terminal; `push --force` auto-approves every data-loss statement. `drop`
//! deletes a generated migration file from the repository, not data, so it is not flagged.

use crate::finding::{FindingKind, Scope};
use crate::target::TargetHint;

use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "drizzle-kit",
    programs: &["drizzle-kit"],
    engine: None,
    destructive_potential: true,
    recognize,
};

const SPEC: Spec = Spec {
    short: "",
    long: &[
        "config", "dialect", "schema", "url", "out", "driver", "host", "port", "user", "password", "database",
    ],
    ..Spec::DEFAULT
};

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    let hint = TargetHint {
        url: a.value(&["--url"]).map(str::to_string),
        host: a.value(&["--host"]).map(str::to_string),
        port: a.value(&["--port"]).map(str::to_string),
        user: a.value(&["--user"]).map(str::to_string),
        dbname: a.value(&["--database"]).map(str::to_string),
        ..TargetHint::default()
    };
    if a.help() {
        return Outcome::db(Vec::new(), hint);
    }
    let mut findings = Vec::new();
    let sub = a.p(0).split(':').next().unwrap_or("");
    if sub == "push" {
        let detail = if a.has(&["--force"]) {
            "drizzle-kit push --force applies the schema diff and auto-approves every drop it needs"
        } else {
            "drizzle-kit push applies the schema diff to the live database, dropping tables and columns the code no longer has"
        };
        findings.push(inv.finding(
            "drizzle-kit",
            FindingKind::SchemaSync,
            None,
            detail.into(),
            Scope::Database,
        ));
    }
    Outcome::db(findings, hint)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;

    #[test]
    fn push_is_schema_sync() {
        assert_eq!(run(&RECOGNIZER, "drizzle-kit push --force"), [FindingKind::SchemaSync]);
        assert_eq!(run(&RECOGNIZER, "drizzle-kit push"), [FindingKind::SchemaSync]);
        assert_eq!(run(&RECOGNIZER, "drizzle-kit push:pg"), [FindingKind::SchemaSync]);
    }

    #[test]
    fn benign() {
        for c in [
            "drizzle-kit generate",
            "drizzle-kit migrate",
            "drizzle-kit studio",
            "drizzle-kit drop",
            "drizzle-kit push --help",
        ] {
            assert!(run(&RECOGNIZER, c).is_empty(), "{c}");
        }
    }
}
