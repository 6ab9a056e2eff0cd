//! PostgreSQL client tools: `psql` (SQL from `-c`, `-f`, stdin, heredocs), `dropdb`, and
//! `pg_restore --clean` (drops what it restores; only when it connects with `-d`).

use crate::finding::{Finding, FindingKind, Scope};
use crate::sql::Dialect;
use crate::target::{Engine, TargetHint};

use super::{is_url, Invocation, Outcome, Recognizer};
use crate::shell::words::{Args, Spec};

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "psql",
    programs: &["psql"],
    engine: Some(Engine::Postgres),
    destructive_potential: true,
    recognize: psql,
};

pub const DROPDB: Recognizer = Recognizer {
    tool: "dropdb",
    programs: &["dropdb"],
    engine: Some(Engine::Postgres),
    destructive_potential: true,
    recognize: dropdb,
};

pub const PG_RESTORE: Recognizer = Recognizer {
    tool: "pg_restore",
    programs: &["pg_restore"],
    engine: Some(Engine::Postgres),
    destructive_potential: true,
    recognize: pg_restore,
};

const PSQL: Spec = Spec {
    short: "cdfhpUvoLPFRT",
    long: &[
        "command",
        "dbname",
        "file",
        "host",
        "port",
        "username",
        "set",
        "variable",
        "output",
        "log-file",
        "pset",
        "field-separator",
        "record-separator",
        "table-attr",
    ],
    ..Spec::DEFAULT
};

/// Fill host/port/user/dbname/url from `-h -p -U -d`, a URL or a `key=value` conninfo.
fn pg_hint(a: &Args, db_positional: Option<&str>, user_positional: Option<&str>) -> TargetHint {
    let mut h = TargetHint {
        host: a.value(&["-h", "--host"]).map(str::to_string),
        port: a.value(&["-p", "--port"]).map(str::to_string),
        user: a.value(&["-U", "--username"]).map(str::to_string),
        ..TargetHint::default()
    };
    let db = a.value(&["-d", "--dbname", "--maintenance-db"]).or(db_positional);
    if let Some(db) = db {
        if is_url(db) {
            h.url = Some(db.to_string());
        } else if db.contains('=') {
            for kv in db.split_whitespace() {
                if let Some((k, v)) = kv.split_once('=') {
                    let v = v.trim_matches('\'').to_string();
                    match k {
                        "host" | "hostaddr" => h.host = Some(v),
                        "port" => h.port = Some(v),
                        "user" => h.user = Some(v),
                        "dbname" => h.dbname = Some(v),
                        _ => {}
                    }
                }
            }
        } else {
            h.dbname = Some(db.to_string());
        }
    }
    if h.user.is_none() {
        h.user = user_positional.map(str::to_string);
    }
    h
}

/// psql input -> SQL: meta-commands are dropped, `\i FILE` is included, and `\!` (shell)
/// or `\gexec` (runs query results as SQL) cannot be known.
pub fn psql_prepare(inv: &Invocation, tool: &str, text: &str) -> (String, Vec<Finding>) {
    let mut sql = String::with_capacity(text.len());
    let mut extra = Vec::new();
    expand_meta(inv, tool, text, &mut sql, &mut extra, 0);
    (sql, extra)
}

fn expand_meta(inv: &Invocation, tool: &str, text: &str, sql: &mut String, extra: &mut Vec<Finding>, depth: usize) {
    for line in text.lines() {
        let t = line.trim_start();
        if line.contains("\\gexec") || t.starts_with("\\!") {
            extra.push(inv.unknown(
                tool,
                format!("{tool} runs a shell command or generated SQL (\\! or \\gexec)"),
            ));
        }
        if let Some(meta) = t.strip_prefix('\\') {
            let mut parts = meta.split_whitespace();
            let cmd = parts.next().unwrap_or("");
            if matches!(cmd, "i" | "ir" | "include" | "include_relative") {
                let file = parts.next().unwrap_or("").trim_matches('\'');
                if depth >= 4 {
                    extra.push(inv.unknown(tool, format!("{tool} includes files too deeply nested to follow")));
                    continue;
                }
                match inv.read(tool, file, false) {
                    Ok(body) => expand_meta(inv, tool, &body, sql, extra, depth + 1),
                    Err(f) => extra.push(*f),
                }
            }
            continue;
        }
        sql.push_str(line);
        sql.push('\n');
    }
}

fn psql(inv: &Invocation) -> Outcome {
    let a = inv.args(&PSQL);
    let hint = pg_hint(
        &a,
        a.pos.first().map(|w| w.text.as_str()),
        a.pos.get(1).map(|w| w.text.as_str()),
    );
    if a.has(&["--help", "--version", "-V", "-l", "--list"]) {
        return Outcome::db(Vec::new(), hint);
    }
    let t = "psql";
    let mut findings = Vec::new();
    let mut had_input = false;
    for o in &a.opts {
        let Some(v) = o.value.as_deref() else { continue };
        match o.name.as_str() {
            "-c" | "--command" => {
                had_input = true;
                if o.dynamic {
                    findings.push(inv.unknown(t, format!("psql runs SQL computed at run time ({v})")));
                } else {
                    findings.extend(inv.client_sql(t, v, Dialect::Postgres, psql_prepare));
                }
            }
            "-f" | "--file" => {
                had_input = true;
                if v == "-" {
                    findings.extend(inv.stdin_sql(t, Dialect::Postgres, psql_prepare));
                    continue;
                }
                match inv.read(t, v, o.dynamic) {
                    Ok(text) => findings.extend(inv.client_sql(t, &text, Dialect::Postgres, psql_prepare)),
                    Err(f) => findings.push(*f),
                }
            }
            _ => {}
        }
    }
    if !had_input {
        findings.extend(inv.stdin_sql(t, Dialect::Postgres, psql_prepare));
    }
    Outcome::db(findings, hint)
}

const DROPDB_SPEC: Spec = Spec {
    short: "hpU",
    long: &["host", "port", "username", "maintenance-db"],
    ..Spec::DEFAULT
};

fn dropdb(inv: &Invocation) -> Outcome {
    let a = inv.args(&DROPDB_SPEC);
    let db = a.pos.first().map(|w| w.text.clone());
    let mut hint = pg_hint(&a, None, None);
    hint.dbname = db.clone();
    if a.help() || a.has(&["-V"]) || db.is_none() {
        return Outcome::db(Vec::new(), hint);
    }
    let name = db.unwrap_or_default();
    let f = inv.finding(
        "dropdb",
        FindingKind::DropDatabase,
        Some(name.clone()),
        format!("dropdb removes the PostgreSQL database {name} and everything in it"),
        Scope::Database,
    );
    Outcome::db(vec![f], hint)
}

const PG_RESTORE_SPEC: Spec = Spec {
    short: "dfFhIjLnNpPStTU",
    long: &[
        "dbname",
        "file",
        "format",
        "host",
        "index",
        "jobs",
        "use-list",
        "schema",
        "exclude-schema",
        "port",
        "function",
        "superuser",
        "table",
        "trigger",
        "username",
        "role",
        "section",
    ],
    ..Spec::DEFAULT
};

fn pg_restore(inv: &Invocation) -> Outcome {
    let a = inv.args(&PG_RESTORE_SPEC);
    let hint = pg_hint(&a, None, None);
    // Without -d, pg_restore prints a script instead of touching a database.
    if a.help() || !a.has(&["-d", "--dbname"]) || !a.has(&["-c", "--clean"]) {
        return Outcome::db(Vec::new(), hint);
    }
    let dump = a.p(0).to_string();
    let f = if a.has(&["-C", "--create"]) {
        inv.finding(
            "pg_restore",
            FindingKind::DropDatabase,
            hint.dbname.clone(),
            "pg_restore --clean --create drops the database named in the dump and recreates it from the dump".into(),
            Scope::Database,
        )
    } else {
        inv.finding(
            "pg_restore",
            FindingKind::ResetDatabase,
            hint.dbname.clone(),
            format!(
                "pg_restore --clean drops every object in {dump} from the database before recreating it from the dump"
            ),
            Scope::Database,
        )
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
    fn dropdb_and_restore() {
        assert_eq!(run(&DROPDB, "dropdb -h db -U pg app"), [FindingKind::DropDatabase]);
        assert!(run(&DROPDB, "dropdb --help").is_empty());
        assert_eq!(
            run(&PG_RESTORE, "pg_restore --clean -d app dump.bin"),
            [FindingKind::ResetDatabase]
        );
        assert_eq!(
            run(&PG_RESTORE, "pg_restore -cC -d postgres dump.bin"),
            [FindingKind::DropDatabase]
        );
        assert!(run(&PG_RESTORE, "pg_restore --clean dump.bin").is_empty());
        assert!(run(&PG_RESTORE, "pg_restore -d app dump.bin").is_empty());
    }

    #[test]
    fn psql_hints() {
        let o = run_with(
            &RECOGNIZER,
            "psql -h db.example -p 5433 -U admin -d shop -c 'SELECT 1'",
            &MapLookup::default(),
            &Input::Terminal,
        );
        let h = o.hint.unwrap_or_default();
        assert_eq!(
            (
                h.host.as_deref(),
                h.port.as_deref(),
                h.user.as_deref(),
                h.dbname.as_deref()
            ),
            (Some("db.example"), Some("5433"), Some("admin"), Some("shop"))
        );
        let o = run_with(
            &RECOGNIZER,
            "psql postgres://u@h/db",
            &MapLookup::default(),
            &Input::Terminal,
        );
        assert_eq!(o.hint.unwrap_or_default().url.as_deref(), Some("postgres://u@h/db"));
        let o = run_with(
            &RECOGNIZER,
            "psql 'host=h dbname=d'",
            &MapLookup::default(),
            &Input::Terminal,
        );
        assert_eq!(o.hint.unwrap_or_default().dbname.as_deref(), Some("d"));
    }

    #[test]
    fn psql_inputs_fail_closed() {
        let l = MapLookup::default();
        let o = run_with(&RECOGNIZER, "psql -f missing.sql", &l, &Input::Terminal);
        assert_eq!(o.findings[0].kind, FindingKind::Unknown);
        let o = run_with(
            &RECOGNIZER,
            "psql",
            &l,
            &Input::Unknown("the output of `curl x`".into()),
        );
        assert_eq!(o.findings[0].kind, FindingKind::Unknown);
        let o = run_with(&RECOGNIZER, "psql -c \"$SQL\"", &l, &Input::Terminal);
        assert_eq!(o.findings[0].kind, FindingKind::Unknown);
        let o = run_with(&RECOGNIZER, "psql", &l, &Input::Text("select 1 \\gexec\n".into()));
        assert!(o.findings.iter().any(|f| f.kind == FindingKind::Unknown));
        assert!(run(&RECOGNIZER, "psql -l").is_empty());
        assert!(run(&RECOGNIZER, "psql app").is_empty());
    }
}
