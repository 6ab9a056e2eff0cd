//! Django management commands (`python manage.py X`, `./manage.py X`, `django-admin X`,
//! `python -m django X`; the wrapper layer maps the Python forms here).
//!
//! `migrate <app> zero` unapplies every migration of the app; `migrate <app> <name>` may
//! move backwards, which cannot be known without the database, so it is Unknown.
//! `sqlflush` only prints SQL. `dbshell` reads SQL from stdin like psql.

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
    short: "v",
    long: &["settings", "database", "pythonpath", "verbosity"],
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
        "dbshell" => inv.stdin_sql(t, Dialect::Postgres, super::plain_sql),
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
