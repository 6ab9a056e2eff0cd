//! Django management commands (`python manage.py X`, `./manage.py X`, `django-admin X`,
//! `python -m django X`; the wrapper layer maps the Python forms here).
//!
//! `migrate <app> zero` unapplies every migration of the app; `migrate <app> <name>` may
//! move backwards, which cannot be known without the database, so it is Unknown.
//! `sqlflush` only prints SQL. `dbshell` reads SQL from stdin like psql, and passes what
//! follows `--` to the client (`-c SQL` for psql, `-e SQL` for mysql). `shell -c CODE` (or
//! code on stdin) is scanned for destructive ORM calls ([`super::inline_code`]).

use crate::finding::{FindingKind, Scope};
use crate::sql::Dialect;
use crate::target::TargetHint;

use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "django",
    programs: &["django-admin", "manage.py", "django"],
    engine: None,
    destructive_potential: true,
    recognize,
};

const SPEC: Spec = Spec {
    short: "vci",
    long: &[
        "settings",
        "database",
        "pythonpath",
        "verbosity",
        "command",
        "interface",
    ],
    ..Spec::DEFAULT
};

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    let hint = TargetHint {
        dbname: a.value(&["--database"]).map(str::to_string),
        ..TargetHint::default()
    };
    if a.help() || a.has(&["-h"]) {
        return Outcome::db(Vec::new(), hint);
    }
    let t = "django";
    let f = |kind, detail: String, scope| inv.finding(t, kind, None, detail, scope);
    let findings = match a.p(0) {
        "flush" => vec![f(
            FindingKind::Truncate,
            "manage.py flush deletes every row of every table".into(),
            Scope::Database,
        )],
        "reset_db" => vec![f(
            FindingKind::ResetDatabase,
            "manage.py reset_db (django-extensions) drops and recreates the database".into(),
            Scope::Database,
        )],
        "migrate" if a.pos.len() >= 3 => {
            let app = a.p(1);
            if a.p(2) == "zero" {
                vec![f(
                    FindingKind::MigrationRollback,
                    format!("manage.py migrate {app} zero unapplies every migration of {app}, dropping its tables"),
                    Scope::Database,
                )]
            } else {
                vec![f(
                    FindingKind::Unknown,
                    format!(
                        "manage.py migrate {app} {} may roll migrations back, dropping what they created",
                        a.p(2)
                    ),
                    Scope::Database,
                )]
            }
        }
        "dbshell" => {
            let mut out = inv.stdin_sql(t, Dialect::Postgres, super::plain_sql);
            out.extend(client_args(inv));
            out
        }
        "shell" | "shell_plus" => {
            let code = a.value(&["-c", "--command"]);
            let py = Some(crate::script::Lang::Python);
            match code {
                Some(c) => super::inline_code::code(inv, t, "manage.py shell -c", c, py),
                None => super::inline_code::stdin_code(inv, t, "manage.py shell", py),
            }
        }
        _ => Vec::new(),
    };
    Outcome::db(findings, hint)
}

/// `manage.py dbshell -- -c 'SQL'`: arguments after `--` go to the database client.
fn client_args(inv: &Invocation) -> Vec<crate::finding::Finding> {
    let Some(dd) = inv.args.iter().position(|w| w.text == "--") else {
        return Vec::new();
    };
    let rest = &inv.args[dd + 1..];
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(w) = rest.get(i) {
        let t = w.text.as_str();
        i += 1;
        let sql = match t {
            "-c" | "--command" | "-e" | "--execute" => rest.get(i).map(|v| (v.text.clone(), v.dynamic)),
            _ => ["--command=", "--execute="]
                .iter()
                .find_map(|p| t.strip_prefix(p))
                .map(|v| (v.to_string(), w.dynamic)),
        };
        let Some((sql, dynamic)) = sql else { continue };
        if dynamic {
            out.push(inv.unknown("django", "manage.py dbshell runs SQL computed at run time".into()));
        } else {
            out.extend(inv.sql("django", &sql, Dialect::Postgres));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;

    #[test]
    fn recognizes() {
        assert_eq!(run(&RECOGNIZER, "manage.py flush --no-input"), [FindingKind::Truncate]);
        assert_eq!(
            run(&RECOGNIZER, "django-admin migrate shop zero"),
            [FindingKind::MigrationRollback]
        );
        assert_eq!(
            run(&RECOGNIZER, "manage.py reset_db --noinput"),
            [FindingKind::ResetDatabase]
        );
        assert!(run(&RECOGNIZER, "manage.py migrate").is_empty());
        assert!(run(&RECOGNIZER, "manage.py migrate shop").is_empty());
        assert!(run(&RECOGNIZER, "manage.py sqlflush").is_empty());
    }
}
