//! MySQL/MariaDB clients: `mysql`/`mariadb` (SQL from `-e`, stdin, `source FILE`) and
//! `mysqladmin drop DB`.

use crate::finding::{Finding, FindingKind, Scope};
use crate::sql::Dialect;
use crate::target::{Engine, TargetHint};

use super::{is_url, Invocation, Outcome, Recognizer};
use crate::shell::words::{Args, Spec};

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "mysql",
    programs: &["mysql", "mariadb"],
    engine: Some(Engine::Mysql),
    destructive_potential: true,
    recognize: mysql,
};

pub const MYSQLADMIN: Recognizer = Recognizer {
    tool: "mysqladmin",
    programs: &["mysqladmin", "mariadb-admin"],
    engine: Some(Engine::Mysql),
    destructive_potential: true,
    recognize: mysqladmin,
};

const SPEC: Spec = Spec {
    short: "ehPuDSO",
    long: &[
        "execute",
        "host",
        "port",
        "user",
        "database",
        "socket",
        "defaults-file",
        "defaults-extra-file",
        "protocol",
        "init-command",
    ],
    optional: "p",
    ..Spec::DEFAULT
};

fn my_hint(a: &Args, positional_db: Option<&str>) -> TargetHint {
    let mut h = TargetHint {
        host: a.value(&["-h", "--host"]).map(str::to_string),
        port: a.value(&["-P", "--port"]).map(str::to_string),
        user: a.value(&["-u", "--user"]).map(str::to_string),
        dbname: a.value(&["-D", "--database"]).or(positional_db).map(str::to_string),
        ..TargetHint::default()
    };
    if h.dbname.as_deref().is_some_and(is_url) {
        h.url = h.dbname.take();
    }
    h
}

/// mysql client input -> SQL: `source FILE` / `\. FILE` are included; other client
/// commands (`use`, `\G`...) pass through or are dropped.
fn mysql_prepare(inv: &Invocation, tool: &str, text: &str) -> (String, Vec<Finding>) {
    let mut sql = String::with_capacity(text.len());
    let mut extra = Vec::new();
    for line in text.lines() {
        let t = line.trim_start();
        let lower = t.get(..7).map(str::to_ascii_lowercase).unwrap_or_default();
        let file = if lower == "source " {
            Some(t[7..].trim().trim_end_matches(';'))
        } else {
            t.strip_prefix("\\.").map(|f| f.trim().trim_end_matches(';'))
        };
        if let Some(file) = file {
            match inv.read(tool, file, false) {
                Ok(body) => {
                    sql.push_str(&body);
                    sql.push('\n');
                }
                Err(f) => extra.push(*f),
            }
            continue;
        }
        if t.starts_with("\\! ") || t.starts_with("system ") {
            extra.push(inv.unknown(tool, format!("{tool} runs a shell command")));
            continue;
        }
        sql.push_str(line);
        sql.push('\n');
    }
    (sql, extra)
}

fn mysql(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    let hint = my_hint(&a, a.pos.first().map(|w| w.text.as_str()));
    if a.has(&["--help", "-?", "--version", "-V"]) {
        return Outcome::db(Vec::new(), hint);
    }
    let t = inv.program;
    let mut findings = Vec::new();
    let mut had = false;
    for o in a.values(&["-e", "--execute"]) {
        had = true;
        let v = o.value.as_deref().unwrap_or("");
        if o.dynamic {
            findings.push(inv.unknown(t, format!("{t} runs SQL computed at run time ({v})")));
        } else {
            findings.extend(inv.client_sql(t, v, Dialect::Mysql, mysql_prepare));
        }
    }
    if !had {
        findings.extend(inv.stdin_sql(t, Dialect::Mysql, mysql_prepare));
    }
    Outcome::db(findings, hint)
}

fn mysqladmin(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    let hint = my_hint(&a, None);
    if a.has(&["--help", "-?"]) {
        return Outcome::db(Vec::new(), hint);
    }
    let mut findings = Vec::new();
    let mut it = a.pos.iter();
    while let Some(w) = it.next() {
        if w.text.eq_ignore_ascii_case("drop") {
            let db = it.next().map(|w| w.text.clone()).unwrap_or_default();
            findings.push(inv.finding(
                inv.program,
                FindingKind::DropDatabase,
                Some(db.clone()),
                format!("mysqladmin drop removes the database {db} and every table in it"),
                Scope::Database,
            ));
        }
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
    fn recognizes() {
        assert_eq!(
            run(&MYSQLADMIN, "mysqladmin -uroot -psecret -f drop shop"),
            [FindingKind::DropDatabase]
        );
        assert!(run(&MYSQLADMIN, "mysqladmin status").is_empty());
        let o = run_with(
            &RECOGNIZER,
            "mysql -uroot -psecret -h db -P 3307 shop",
            &MapLookup::default(),
            &Input::Terminal,
        );
        let h = o.hint.unwrap_or_default();
        assert_eq!(
            (
                h.user.as_deref(),
                h.host.as_deref(),
                h.port.as_deref(),
                h.dbname.as_deref()
            ),
            (Some("root"), Some("db"), Some("3307"), Some("shop"))
        );
        assert!(o.findings.is_empty());
        let o = run_with(
            &RECOGNIZER,
            "mysql shop",
            &MapLookup::default(),
            &Input::Unknown("x".into()),
        );
        assert_eq!(o.findings[0].kind, FindingKind::Unknown);
    }
}
