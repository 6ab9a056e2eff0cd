//! Rails and rake database tasks (`rails`, `rake`, `bin/rails`, `bin/rake`).
//!
//! `db:setup` is flagged: it runs `db:schema:load`, whose `create_table ... force: :cascade`
//! drops existing tables. `db:prepare`, `db:create`, `db:migrate`, `db:seed` are not, except
//! `db:migrate VERSION=0` (everything rolled back; another version may move backwards).
//! `db:seed` runs db/seeds.rb, which is read like any Ruby script ([`super::seeds`]).
//! `rails dbconsole` reads SQL on stdin like psql; `rails runner CODE|FILE` / `rails console`
//! with code on stdin go through the Ruby script analysis ([`crate::script`]).

use crate::finding::{FindingKind, Scope};
use crate::sql::Dialect;
use crate::target::TargetHint;

use super::{Invocation, Outcome, Recognizer};

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "rails",
    programs: &["rails", "rake"],
    engine: None,
    destructive_potential: true,
    recognize,
};

fn task(name: &str) -> Option<(FindingKind, &'static str)> {
    use FindingKind::*;
    // `db:drop[primary]`-style arguments and namespaced databases (`db:drop:primary`).
    let name = name.split('[').next().unwrap_or(name);
    let base = |p: &str| name == p || name.strip_prefix(p).is_some_and(|r| r.starts_with(':'));
    Some(if base("db:drop") {
        (DropDatabase, "drops the database")
    } else if base("db:reset") {
        (ResetDatabase, "drops and recreates the database from the schema file")
    } else if base("db:migrate:reset") {
        (ResetDatabase, "drops the database and re-runs every migration")
    } else if base("db:schema:load") || base("db:structure:load") {
        (
            ResetDatabase,
            "loads the schema file, which drops and recreates every table it defines",
        )
    } else if base("db:setup") {
        (
            ResetDatabase,
            "loads the schema file (dropping existing tables) and seeds",
        )
    } else if base("db:purge") {
        (ResetDatabase, "empties the database")
    } else if base("db:truncate_all") {
        (Truncate, "truncates every table")
    } else if base("db:seed:replant") {
        (Truncate, "truncates every table before seeding")
    } else if base("db:fixtures:load") {
        (
            DeleteAll,
            "deletes the rows of every fixture table before loading fixtures",
        )
    } else if base("db:rollback") || base("db:migrate:down") || base("db:migrate:redo") {
        (
            MigrationRollback,
            "reverts migrations, which usually drops what they created",
        )
    } else {
        return None;
    })
}

fn recognize(inv: &Invocation) -> Outcome {
    let hint = TargetHint::default();
    if inv
        .args
        .iter()
        .any(|w| matches!(w.text.as_str(), "--help" | "-h" | "-T" | "--tasks" | "-P" | "-D"))
    {
        return Outcome::db(Vec::new(), hint);
    }
    let mut findings = Vec::new();
    let first = inv.args.iter().find(|w| !w.text.starts_with('-'));
    match first.map(|w| w.text.as_str()) {
        Some("dbconsole" | "db") if inv.program == "rails" => {
            return Outcome::db(inv.stdin_sql("rails", Dialect::Postgres, super::plain_sql), hint);
        }
        Some("runner" | "r") if inv.program == "rails" => {
            let after = inv
                .args
                .iter()
                .skip_while(|w| !matches!(w.text.as_str(), "runner" | "r"))
                .skip(1);
            let mut code = None;
            let mut takes_value = false;
            for w in after {
                if takes_value {
                    takes_value = false;
                } else if matches!(w.text.as_str(), "-e" | "--environment") {
                    takes_value = true;
                } else if !w.text.starts_with('-') || w.text == "-" {
                    code = Some(w);
                    break;
                }
            }
            let ruby = Some(crate::script::Lang::Ruby);
            if let Some(code) = code {
                if code.text == "-" {
                    findings.extend(super::inline_code::stdin_code(inv, "rails", "rails runner", ruby));
                } else if code.text.ends_with(".rb") && !code.dynamic {
                    // `rails runner script.rb`: the file and what it requires.
                    let path = crate::script::follow::join("", &code.text);
                    let found = crate::script::nested(|| {
                        crate::script::analyze_run(&path, crate::script::Lang::Ruby, inv.lookup)
                    });
                    findings.extend(found.unwrap_or_default());
                } else {
                    findings.extend(super::inline_code::code(inv, "rails", "rails runner", &code.text, ruby));
                }
            }
            return Outcome::db(findings, hint);
        }
        Some("console" | "c") if inv.program == "rails" => {
            let ruby = Some(crate::script::Lang::Ruby);
            findings.extend(super::inline_code::stdin_code(inv, "rails", "rails console", ruby));
            return Outcome::db(findings, hint);
        }
        _ => {}
    }
    let version = inv
        .args
        .iter()
        .rev()
        .find_map(|w| w.text.strip_prefix("VERSION="))
        .or_else(|| inv.env_var("VERSION"));
    for w in inv.args {
        if w.text == "db:migrate" {
            match version {
                Some("0") => findings.push(inv.finding(
                    "rails",
                    FindingKind::MigrationRollback,
                    None,
                    format!(
                        "{} db:migrate VERSION=0 reverts every migration, dropping what they created",
                        inv.program
                    ),
                    Scope::Database,
                )),
                Some(v) => findings.push(inv.unknown(
                    "rails",
                    format!(
                        "{} db:migrate VERSION={v} may roll migrations back, dropping what they created",
                        inv.program
                    ),
                )),
                None => {}
            }
            continue;
        }
        if w.text == "db:seed" || w.text.starts_with("db:seed:") && w.text != "db:seed:replant" {
            findings.extend(super::seeds::rails(inv));
            continue;
        }
        if let Some((kind, what)) = task(&w.text) {
            let detail = format!("{} {} {what}", inv.program, w.text);
            findings.push(inv.finding("rails", kind, None, detail, Scope::Database));
        } else if w.dynamic && w.text.contains("db:") {
            findings.push(inv.unknown(
                "rails",
                format!("{} runs a database task named at run time", inv.program),
            ));
        }
    }
    Outcome::db(findings, hint)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;

    #[test]
    fn recognizes() {
        assert_eq!(run(&RECOGNIZER, "rails db:drop"), [FindingKind::DropDatabase]);
        assert_eq!(run(&RECOGNIZER, "rake db:reset"), [FindingKind::ResetDatabase]);
        assert_eq!(run(&RECOGNIZER, "rails db:schema:load"), [FindingKind::ResetDatabase]);
        assert_eq!(
            run(&RECOGNIZER, "rails db:drop db:create db:migrate"),
            [FindingKind::DropDatabase]
        );
        assert_eq!(run(&RECOGNIZER, "rails db:truncate_all"), [FindingKind::Truncate]);
    }

    #[test]
    fn benign() {
        for c in [
            "rails db:migrate",
            "rails db:create",
            "rails db:prepare",
            "rails db:seed",
            "rails server",
            "rake -T db:drop",
        ] {
            assert!(run(&RECOGNIZER, c).is_empty(), "{c}");
        }
    }
}
