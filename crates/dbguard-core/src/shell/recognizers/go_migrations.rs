//! Go migration tools: goose (`reset`, `down-to V`, `down`, `redo`), dbmate (`drop`,
//! `rollback`/`down`) and golang-migrate's `migrate` (`down` without a count or with
//! `-all`, `down N`, `drop`, `goto V`). The database comes from the command line (goose's
//! driver and DBSTRING, `-database`, `--url`) or `DATABASE_URL` (dbmate) /
//! `GOOSE_DBSTRING`.

use crate::finding::{Finding, FindingKind, Scope};
use crate::target::{Engine, TargetHint};

use super::{is_url, Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const GOOSE: Recognizer = Recognizer {
    tool: "goose",
    programs: &["goose"],
    engine: None,
    destructive_potential: true,
    recognize: goose,
};

pub const DBMATE: Recognizer = Recognizer {
    tool: "dbmate",
    programs: &["dbmate"],
    engine: None,
    destructive_potential: true,
    recognize: dbmate,
};

pub const MIGRATE: Recognizer = Recognizer {
    tool: "migrate",
    programs: &["migrate"],
    engine: None,
    destructive_potential: true,
    recognize: migrate,
};

fn dsn_hint(dsn: &str, driver: &str) -> TargetHint {
    let mut h = TargetHint::default();
    if driver.starts_with("sqlite") {
        h.file = Some(dsn.to_string());
        h.engine = Some(Engine::Sqlite);
    } else if is_url(dsn) || dsn.contains('=') {
        h.url = Some(dsn.to_string());
    }
    h
}

fn rollback(inv: &Invocation, tool: &str, detail: String) -> Finding {
    inv.finding(tool, FindingKind::MigrationRollback, None, detail, Scope::Database)
}

const GOOSE_SPEC: Spec = Spec {
    short: "",
    long: &["dir", "table", "certfile", "ssl-cert", "ssl-key", "timeout", "env"],
    ..Spec::SINGLE
};

fn goose(inv: &Invocation) -> Outcome {
    let a = inv.args(&GOOSE_SPEC);
    let pos: Vec<&str> = a.pos.iter().map(|w| w.text.as_str()).collect();
    const COMMANDS: &[&str] = &[
        "up",
        "up-by-one",
        "up-to",
        "down",
        "down-to",
        "redo",
        "reset",
        "status",
        "version",
        "create",
        "fix",
        "validate",
    ];
    let Some(ci) = pos.iter().position(|p| COMMANDS.contains(p)) else {
        return Outcome::default();
    };
    let (driver, dsn) = if ci >= 2 {
        (pos[ci - 2].to_string(), Some(pos[ci - 1].to_string()))
    } else {
        (
            inv.env_var("GOOSE_DRIVER").unwrap_or("").to_string(),
            inv.env_var("GOOSE_DBSTRING").map(str::to_string),
        )
    };
    let hint = dsn.map(|d| dsn_hint(&d, &driver)).unwrap_or_default();
    if a.has(&["-h", "-help", "--help"]) {
        return Outcome::db(Vec::new(), hint);
    }
    let arg = pos.get(ci + 1).copied().unwrap_or("");
    let f = match pos[ci] {
        "reset" => rollback(
            inv,
            "goose",
            "goose reset rolls back every migration, dropping what they created".into(),
        ),
        "down-to" if arg == "0" => rollback(
            inv,
            "goose",
            "goose down-to 0 rolls back every migration, dropping what they created".into(),
        ),
        "down-to" => rollback(
            inv,
            "goose",
            format!("goose down-to {arg} rolls back the migrations after {arg}, dropping what they created"),
        ),
        "down" | "redo" => rollback(
            inv,
            "goose",
            format!(
                "goose {} rolls back the latest migration, which usually drops what it created",
                pos[ci]
            ),
        ),
        _ => return Outcome::db(Vec::new(), hint),
    };
    Outcome::db(vec![f], hint)
}

const DBMATE_SPEC: Spec = Spec {
    short: "ude",
    long: &[
        "url",
        "env",
        "env-file",
        "migrations-dir",
        "schema-file",
        "migrations-table",
        "wait-timeout",
    ],
    ..Spec::DEFAULT
};

fn dbmate(inv: &Invocation) -> Outcome {
    let a = inv.args(&DBMATE_SPEC);
    let hint = TargetHint {
        url: a.value(&["-u", "--url"]).map(str::to_string),
        ..TargetHint::default()
    };
    if a.help() || a.has(&["-h"]) {
        return Outcome::db(Vec::new(), hint);
    }
    let f = match a.p(0) {
        "drop" => inv.finding(
            "dbmate",
            FindingKind::DropDatabase,
            None,
            "dbmate drop drops the database".into(),
            Scope::Database,
        ),
        "rollback" | "down" => rollback(
            inv,
            "dbmate",
            format!(
                "dbmate {} rolls back the latest migration, which usually drops what it created",
                a.p(0)
            ),
        ),
        _ => return Outcome::db(Vec::new(), hint),
    };
    Outcome::db(vec![f], hint)
}

const MIGRATE_SPEC: Spec = Spec {
    short: "",
    long: &["source", "path", "database", "lock-timeout", "prefetch"],
    ..Spec::SINGLE
};

fn migrate(inv: &Invocation) -> Outcome {
    let a = inv.args(&MIGRATE_SPEC);
    let url = a.value(&["-database", "--database"]);
    let hint = TargetHint {
        url: url.map(str::to_string),
        file: url
            .and_then(|u| u.strip_prefix("sqlite3://").or_else(|| u.strip_prefix("sqlite://")))
            .map(str::to_string),
        ..TargetHint::default()
    };
    if a.has(&["-help", "--help", "-h", "-version", "--version"]) {
        return Outcome::db(Vec::new(), hint);
    }
    let arg = a.p(1);
    let f = match a.p(0) {
        "down" if arg.is_empty() || a.has(&["-all", "--all"]) => rollback(
            inv,
            "migrate",
            "migrate down without a count rolls back every migration, dropping what they created".into(),
        ),
        "down" => rollback(
            inv,
            "migrate",
            format!("migrate down {arg} rolls back {arg} migration(s), which usually drops what they created"),
        ),
        "drop" => inv.finding(
            "migrate",
            FindingKind::ResetDatabase,
            None,
            "migrate drop drops everything inside the database".into(),
            Scope::Database,
        ),
        "goto" => inv.unknown(
            "migrate",
            format!("migrate goto {arg} may roll migrations back, dropping what they created"),
        ),
        _ => return Outcome::db(Vec::new(), hint),
    };
    Outcome::db(vec![f], hint)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{run, run_with};
    use super::super::Input;
    use super::*;
    use crate::lookup::MapLookup;

    #[test]
    fn goose_commands() {
        assert_eq!(
            run(&GOOSE, "goose -dir db/migrations postgres 'user=app dbname=shop' reset"),
            [FindingKind::MigrationRollback]
        );
        assert_eq!(
            run(&GOOSE, "goose sqlite3 ./app.db down-to 0"),
            [FindingKind::MigrationRollback]
        );
        for c in [
            "goose postgres 'dbname=x' status",
            "goose up",
            "goose create add_users sql",
        ] {
            assert!(run(&GOOSE, c).is_empty(), "{c}");
        }
        let o = run_with(
            &GOOSE,
            "goose sqlite3 ./app.db reset",
            &MapLookup::default(),
            &Input::Terminal,
        );
        assert_eq!(o.hint.unwrap_or_default().file.as_deref(), Some("./app.db"));
    }

    #[test]
    fn dbmate_and_migrate() {
        assert_eq!(run(&DBMATE, "dbmate drop"), [FindingKind::DropDatabase]);
        assert_eq!(
            run(&DBMATE, "dbmate -u postgres://x/y rollback"),
            [FindingKind::MigrationRollback]
        );
        assert!(run(&DBMATE, "dbmate up").is_empty());
        assert_eq!(
            run(&MIGRATE, "migrate -path db -database postgres://x/y down -all"),
            [FindingKind::MigrationRollback]
        );
        assert_eq!(
            run(&MIGRATE, "migrate -database postgres://x/y drop -f"),
            [FindingKind::ResetDatabase]
        );
        assert_eq!(
            run(&MIGRATE, "migrate -database postgres://x/y down"),
            [FindingKind::MigrationRollback]
        );
        for c in [
            "migrate -path db -database postgres://x/y up",
            "migrate -database postgres://x/y force 3",
            "migrate create -ext sql x",
        ] {
            assert!(run(&MIGRATE, c).is_empty(), "{c}");
        }
    }
}
