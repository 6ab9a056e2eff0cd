//! Prisma CLI: `migrate reset`, `db push --force-reset | --accept-data-loss`, `db execute`,
//! `db seed` (the seed command it runs, [`super::seeds`]).
//!
//! `migrate dev` is not flagged: it only resets after Prisma's own interactive prompt
//! ("We need to reset the database... All data will be lost"), and in a non-interactive
//! shell (an agent, CI) Prisma 6 aborts with "Prisma Migrate has detected that the
//! environment is non-interactive" instead of resetting. Plain `db push` likewise refuses
//! to apply data-losing changes without `--accept-data-loss`. Except: when the project's
//! `shadowDatabaseUrl` is its main database (the lookup says so), `migrate dev` and `migrate
//! diff --from-migrations` reset that "shadow" without asking: a reset of the main database.

use crate::finding::{FindingKind, Scope};
use crate::sql::Dialect;
use crate::target::TargetHint;

use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "prisma",
    programs: &["prisma"],
    engine: None,
    destructive_potential: true,
    recognize,
};

const SPEC: Spec = Spec {
    short: "n",
    long: &[
        "schema",
        "url",
        "name",
        "file",
        "config",
        "from-url",
        "to-url",
        "from-schema-datasource",
        "to-schema-datamodel",
        "to-schema-datasource",
        "from-schema-datamodel",
        "from-migrations",
        "to-migrations",
        "shadow-database-url",
        "output",
    ],
    ..Spec::DEFAULT
};

fn dialect_of(url: Option<&str>) -> Dialect {
    match url {
        Some(u) if u.starts_with("mysql") => Dialect::Mysql,
        Some(u) if u.starts_with("file:") || u.starts_with("sqlite") => Dialect::Sqlite,
        _ => Dialect::Postgres,
    }
}

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    let url = a.value(&["--url"]).map(str::to_string);
    let hint = TargetHint {
        url: url.clone(),
        file: a.value(&["--schema"]).map(str::to_string),
        ..TargetHint::default()
    };
    if a.help() || a.has(&["-h"]) {
        return Outcome::db(Vec::new(), hint);
    }
    let t = "prisma";
    let mut findings = Vec::new();
    match (a.p(0), a.p(1)) {
        ("migrate", "reset") => findings.push(inv.finding(
            t,
            FindingKind::ResetDatabase,
            None,
            "prisma migrate reset drops the database (or every table in it) and re-applies all migrations: all data is lost".into(),
            Scope::Database,
        )),
        ("db", "push") if a.has(&["--force-reset"]) => findings.push(inv.finding(
            t,
            FindingKind::ResetDatabase,
            None,
            "prisma db push --force-reset drops every table and recreates the schema: all data is lost".into(),
            Scope::Database,
        )),
        ("db", "push") if a.has(&["--accept-data-loss"]) => findings.push(inv.finding(
            t,
            FindingKind::SchemaSync,
            None,
            "prisma db push --accept-data-loss applies whatever drops the schema diff needs without asking".into(),
            Scope::Database,
        )),
        ("db", "seed") => findings.extend(super::seeds::prisma(inv)),
        ("migrate", "dev") | ("migrate", "diff")
            if (a.p(1) == "dev" || a.has(&["--from-migrations", "--to-migrations"]))
                && !a.has(&["--shadow-database-url"])
                && inv.lookup.prisma_shadow_is_main(inv.env) == Some(true) =>
        {
            findings.push(inv.finding(
                t,
                FindingKind::ResetDatabase,
                None,
                format!(
                    "prisma migrate {} resets the shadow database, and this project's shadowDatabaseUrl is its main database: all its data would be lost",
                    a.p(1)
                ),
                Scope::Database,
            ))
        }
        ("db", "execute") => {
            let dialect = dialect_of(url.as_deref());
            if a.has(&["--stdin"]) {
                findings.extend(inv.stdin_sql(t, dialect, super::plain_sql));
            } else if let Some(o) = a.values(&["--file"]).last() {
                match inv.read(t, o.value.as_deref().unwrap_or(""), o.dynamic) {
                    Ok(sql) => findings.extend(inv.sql(t, &sql, dialect)),
                    Err(f) => findings.push(*f),
                }
            }
        }
        _ => {}
    }
    Outcome::db(findings, hint)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{run, run_with};
    use super::super::Input;
    use super::*;
    use crate::lookup::MapLookup;

    #[test]
    fn destructive() {
        assert_eq!(
            run(&RECOGNIZER, "prisma migrate reset --force"),
            [FindingKind::ResetDatabase]
        );
        assert_eq!(run(&RECOGNIZER, "prisma migrate reset"), [FindingKind::ResetDatabase]);
        assert_eq!(
            run(&RECOGNIZER, "prisma db push --force-reset"),
            [FindingKind::ResetDatabase]
        );
        assert_eq!(
            run(&RECOGNIZER, "prisma db push --accept-data-loss"),
            [FindingKind::SchemaSync]
        );
    }

    #[test]
    fn benign() {
        for c in [
            "prisma migrate deploy",
            "prisma generate",
            "prisma migrate reset --help",
            "prisma db push",
            "prisma migrate dev",
        ] {
            assert!(run(&RECOGNIZER, c).is_empty(), "{c}");
        }
    }

    #[test]
    fn shadow_that_is_the_main_database() {
        let lookup = MapLookup {
            prisma_shadow_is_main: Some(true),
            ..MapLookup::default()
        };
        for c in [
            "prisma migrate dev",
            "prisma migrate dev --create-only --name x",
            "prisma migrate diff --from-migrations prisma/migrations --to-schema-datamodel prisma/schema.prisma",
        ] {
            let out = run_with(&RECOGNIZER, c, &lookup, &Input::Terminal);
            assert_eq!(out.findings.len(), 1, "{c}");
            assert_eq!(out.findings[0].kind, FindingKind::ResetDatabase, "{c}");
        }
        for c in [
            "prisma migrate diff --from-empty --to-schema-datamodel prisma/schema.prisma",
            "prisma migrate dev --shadow-database-url postgres://h/shadow",
            "prisma migrate deploy",
        ] {
            assert!(
                run_with(&RECOGNIZER, c, &lookup, &Input::Terminal).findings.is_empty(),
                "{c}"
            );
        }
    }

    #[test]
    fn execute_file_unreadable_is_unknown() {
        let out = run_with(
            &RECOGNIZER,
            "prisma db execute --file x.sql",
            &MapLookup::default(),
            &Input::Terminal,
        );
        assert_eq!(out.findings[0].kind, FindingKind::Unknown);
        let out = run_with(
            &RECOGNIZER,
            "prisma migrate reset --url postgres://h/db",
            &MapLookup::default(),
            &Input::Terminal,
        );
        assert_eq!(out.hint.and_then(|h| h.url).as_deref(), Some("postgres://h/db"));
    }
}
