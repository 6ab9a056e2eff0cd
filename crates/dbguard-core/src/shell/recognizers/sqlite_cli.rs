//! `sqlite3 [OPTIONS] FILE [SQL...]`: SQL arguments, `-cmd`, stdin, `.read FILE`.
//! `-readonly` cannot modify anything and is not flagged. Dot-commands that replace data:
//! `.restore [DB] FILE` (the database becomes a copy of FILE) and `.open --new FILE` (FILE
//! emptied).

use crate::finding::{Finding, FindingKind, Scope};
use crate::sql::Dialect;
use crate::target::{Engine, TargetHint};

use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "sqlite3",
    programs: &["sqlite3", "sqlite"],
    engine: Some(Engine::Sqlite),
    destructive_potential: true,
    recognize,
};

const SPEC: Spec = Spec {
    short: "",
    long: &[
        "cmd",
        "init",
        "separator",
        "newline",
        "nullvalue",
        "vfs",
        "maxsize",
        "mmap",
        "heap",
        "lookaside",
        "pagecache",
        "escape",
    ],
    ..Spec::SINGLE
};

/// sqlite3 input -> SQL: dot-commands are dropped, `.read FILE` is included, `.shell` /
/// `.system` run shell commands and cannot be known.
fn sqlite_prepare(inv: &Invocation, tool: &str, text: &str) -> (String, Vec<Finding>) {
    let mut sql = String::with_capacity(text.len());
    let mut extra = Vec::new();
    for line in text.lines() {
        let t = line.trim_start();
        if let Some(dot) = t.strip_prefix('.') {
            let mut parts = dot.split_whitespace();
            match parts.next().unwrap_or("") {
                "read" => {
                    let file = parts.next().unwrap_or("").trim_matches(['\'', '"']);
                    match inv.read(tool, file, false) {
                        Ok(body) => {
                            sql.push_str(&body);
                            sql.push('\n');
                        }
                        Err(f) => extra.push(*f),
                    }
                }
                "shell" | "system" => extra.push(inv.unknown(tool, format!("{tool} runs a shell command (.shell)"))),
                "restore" => {
                    let args: Vec<&str> = parts.collect();
                    let from = args.last().copied().unwrap_or("?").trim_matches(['\'', '"']);
                    extra.push(inv.finding(
                        tool,
                        FindingKind::ResetDatabase,
                        None,
                        format!("{tool} .restore replaces the whole database with the contents of {from}"),
                        Scope::Database,
                    ));
                }
                "open" => {
                    let args: Vec<&str> = parts.collect();
                    if args.contains(&"--new") {
                        let file = args.iter().rev().find(|a| !a.starts_with("--")).copied().unwrap_or("?");
                        extra.push(inv.finding(
                            tool,
                            FindingKind::DeleteFiles,
                            Some(file.trim_matches(['\'', '"']).to_string()),
                            format!("{tool} .open --new empties {file} if it exists"),
                            Scope::External,
                        ));
                    }
                }
                _ => {}
            }
            continue;
        }
        sql.push_str(line);
        sql.push('\n');
    }
    (sql, extra)
}

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    let file = a.pos.first().map(|w| w.text.clone());
    let hint = TargetHint {
        file: file.clone(),
        ..TargetHint::default()
    };
    if a.has(&["-help", "--help", "-version", "--version", "-readonly", "--readonly"]) {
        return Outcome::db(Vec::new(), hint);
    }
    let t = "sqlite3";
    let mut findings = Vec::new();
    let mut had = false;
    for o in a.values(&["-cmd", "--cmd"]) {
        let v = o.value.as_deref().unwrap_or("");
        if o.dynamic {
            findings.push(inv.unknown(t, format!("sqlite3 runs SQL computed at run time ({v})")));
        } else {
            findings.extend(inv.client_sql(t, v, Dialect::Sqlite, sqlite_prepare));
        }
    }
    for w in a.pos.iter().skip(1) {
        had = true;
        if w.dynamic {
            findings.push(inv.unknown(t, format!("sqlite3 runs SQL computed at run time ({})", w.text)));
        } else {
            findings.extend(inv.client_sql(t, &w.text, Dialect::Sqlite, sqlite_prepare));
        }
    }
    if !had {
        findings.extend(inv.stdin_sql(t, Dialect::Sqlite, sqlite_prepare));
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
        let l = MapLookup::default();
        let o = run_with(&RECOGNIZER, "sqlite3 app.db '.read missing.sql'", &l, &Input::Terminal);
        assert_eq!(o.findings[0].kind, FindingKind::Unknown);
        assert_eq!(o.hint.unwrap_or_default().file.as_deref(), Some("app.db"));
        assert!(run(&RECOGNIZER, "sqlite3 app.db .tables").is_empty());
        assert_eq!(
            run(&RECOGNIZER, "sqlite3 app.db '.restore backup.db'"),
            [FindingKind::ResetDatabase]
        );
        assert!(run(&RECOGNIZER, "sqlite3 app.db '.backup backup.db'").is_empty());
        assert!(run(&RECOGNIZER, "sqlite3 -readonly app.db 'DELETE FROM t'").is_empty());
        let o = run_with(&RECOGNIZER, "sqlite3 app.db", &l, &Input::Unknown("x".into()));
        assert_eq!(o.findings[0].kind, FindingKind::Unknown);
    }
}
