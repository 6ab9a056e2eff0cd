//! MongoDB shells (`mongosh`, `mongo`: `--eval`, script files, stdin) and
//! `mongorestore --drop`. The JavaScript is scanned for the destructive calls, not run.

use crate::finding::{FindingKind, Scope};
use crate::target::{Engine, TargetHint};

use super::{is_url, Input, Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "mongosh",
    programs: &["mongosh", "mongo", "mongorestore"],
    engine: Some(Engine::Mongo),
    destructive_potential: true,
    recognize,
};

const SPEC: Spec = Spec {
    short: "fupd",
    long: &[
        "eval",
        "file",
        "host",
        "port",
        "username",
        "password",
        "authenticationDatabase",
        "uri",
        "db",
        "nsInclude",
        "archive",
    ],
    ..Spec::DEFAULT
};

/// Destructive calls in mongo shell JavaScript.
pub fn js_findings(js: &str) -> Vec<(FindingKind, &'static str)> {
    let mut out = Vec::new();
    let compact: String = js.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.contains("dropDatabase(") || compact.contains("dropDatabase:") {
        out.push((FindingKind::DropDatabase, "drops the whole database (dropDatabase)"));
    }
    if compact.contains(".drop(") || compact.contains("drop:") {
        out.push((FindingKind::DropTable, "drops a collection (.drop())"));
    }
    for call in ["deleteMany(", "remove("] {
        let mut rest = compact.as_str();
        while let Some(at) = rest.find(call) {
            rest = &rest[at + call.len()..];
            if rest.starts_with(')') || rest.starts_with("{})") || rest.starts_with("{},") {
                out.push((
                    FindingKind::DeleteAll,
                    "deletes every document of a collection (empty filter)",
                ));
                break;
            }
        }
    }
    out
}

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    let mut hint = TargetHint {
        host: a.value(&["--host"]).map(str::to_string),
        port: a.value(&["--port"]).map(str::to_string),
        user: a.value(&["-u", "--username"]).map(str::to_string),
        url: a.value(&["--uri"]).map(str::to_string),
        dbname: a.value(&["-d", "--db"]).map(str::to_string),
        ..TargetHint::default()
    };
    if let Some(u) = a.pos.iter().find(|w| is_url(&w.text)) {
        hint.url = Some(u.text.clone());
    }
    if a.has(&["--help", "-h", "--version"]) {
        return Outcome::db(Vec::new(), hint);
    }
    let t = inv.program;
    let mut findings = Vec::new();
    if t == "mongorestore" {
        if a.has(&["--drop"]) {
            findings.push(inv.finding(
                t,
                FindingKind::DropTable,
                None,
                "mongorestore --drop drops each collection before restoring it from the dump".into(),
                Scope::Database,
            ));
        }
        return Outcome::db(findings, hint);
    }
    let mut scripts: Vec<String> = Vec::new();
    let mut had = false;
    for o in a.values(&["--eval"]) {
        had = true;
        if o.dynamic {
            findings.push(inv.unknown(t, format!("{t} evaluates JavaScript computed at run time")));
        } else {
            scripts.push(o.value.clone().unwrap_or_default());
        }
    }
    let files = a
        .values(&["-f", "--file"])
        .filter_map(|o| o.value.clone())
        .chain(a.pos.iter().filter(|w| w.text.ends_with(".js")).map(|w| w.text.clone()));
    for file in files {
        had = true;
        match inv.lookup.read_file(&file) {
            Some(js) => scripts.push(js),
            None => findings.push(inv.unknown(t, format!("{t} runs the script {file}, which could not be read"))),
        }
    }
    if !had {
        match inv.stdin {
            Input::Text(js) => scripts.push(js.clone()),
            Input::Unknown(why) => findings.push(inv.unknown(t, format!("{t} runs JavaScript from {why}"))),
            _ => {}
        }
    }
    for js in &scripts {
        for (kind, what) in js_findings(js) {
            findings.push(inv.finding(t, kind, None, format!("{t} {what}"), Scope::Database));
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
        assert_eq!(
            run(&RECOGNIZER, "mongosh app --eval 'db.dropDatabase()'"),
            [FindingKind::DropDatabase]
        );
        assert_eq!(
            run(&RECOGNIZER, "mongosh --eval 'db.users.drop()'"),
            [FindingKind::DropTable]
        );
        assert_eq!(
            run(&RECOGNIZER, "mongo --eval 'db.users.deleteMany({})'"),
            [FindingKind::DeleteAll]
        );
        assert!(run(&RECOGNIZER, "mongosh --eval 'db.users.deleteMany({age: 3})'").is_empty());
        assert!(run(&RECOGNIZER, "mongosh --eval 'db.users.find()'").is_empty());
        assert_eq!(run(&RECOGNIZER, "mongorestore --drop dump/"), [FindingKind::DropTable]);
    }
}
