//! Heroku CLI: `pg:reset`, `addons:destroy` of a database add-on, `apps:destroy`,
//! restoring a backup or copying a database over another (`pg:backups:restore`,
//! `pg:copy`), deleting backups, SQL through `pg:psql` (the PostgreSQL core), and
//! `heroku run COMMAND` / `run:detached`: the command runs on a dyno against the app's
//! own databases, so it is analyzed like any other command line and its findings are
//! about the app's database.

use crate::finding::FindingKind;
use crate::shell::analyze_command;
use crate::sql::Dialect;
use crate::target::Engine;

use super::cloud::{self, db_like};
use super::postgres_cli::psql_prepare;
use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::{join_words, Args, Spec};

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "heroku",
    programs: &["heroku"],
    engine: None,
    destructive_potential: false,
    recognize,
};

const SPEC: Spec = Spec {
    short: "arcfse",
    long: &[
        "app", "remote", "confirm", "command", "file", "size", "env", "type", "team",
    ],
    ..Spec::DEFAULT
};

fn recognize(inv: &Invocation) -> Outcome {
    let Some(first) = inv.args.first() else {
        return Outcome::default();
    };
    let sub = first.text.as_str();
    if matches!(sub, "run" | "run:detached" | "run:inside") {
        return run(inv, sub);
    }
    let a = Args::parse(&inv.args[1..], &SPEC);
    if a.help() || a.has(&["-h"]) {
        return Outcome::default();
    }
    let app = a
        .value(&["-a", "--app"])
        .or_else(|| inv.env_var("HEROKU_APP"))
        .or_else(|| {
            (sub == "apps:destroy" || sub == "destroy")
                .then(|| a.p(0))
                .filter(|s| !s.is_empty())
        });
    let mut ctx = Vec::new();
    if let Some(r) = a.value(&["-r", "--remote"]) {
        ctx.push(format!("remote {r}"));
    }
    let capture = format!(
        "capture a backup first (`heroku pg:backups:capture --app {0}`) and check the existing ones \
(`heroku pg:backups --app {0}`); Heroku Postgres rollback (Standard tier and up) restores to a point within its retention",
        app.unwrap_or("APP")
    );
    let res = |kind: &str| cloud::resource("Heroku", kind, app, ctx.clone(), capture.clone());
    let (kind, what) = match sub {
        "pg:reset" => (
            "app database",
            "empties the app's Heroku Postgres database (every table and row)".to_string(),
        ),
        "pg:backups:restore" | "pg:backups:restore:" => (
            "app database",
            "overwrites the app's database with a backup: everything written since is lost".to_string(),
        ),
        "pg:copy" => (
            "app database",
            format!("overwrites the database {} with a copy of {}", a.p(1), a.p(0)),
        ),
        "pg:backups:delete" => ("backup", format!("deletes the backup {}", a.p(0))),
        "addons:destroy" | "addons:remove" => {
            let addon = a.p(0);
            if !(db_like(addon) || addon.contains("postgres") || addon.eq_ignore_ascii_case("DATABASE")) {
                return Outcome::default();
            }
            (
                "add-on",
                format!("destroys the add-on {addon} and every byte of data in it"),
            )
        }
        "apps:destroy" | "destroy" => (
            "app",
            "destroys the app and its add-ons, its databases included".to_string(),
        ),
        "pg:psql" => {
            let mut findings = Vec::new();
            let mut had = false;
            if let Some(sql) = a.value(&["-c", "--command"]) {
                had = true;
                findings.extend(inv.client_sql("heroku", sql, Dialect::Postgres, psql_prepare));
            }
            if let Some(f) = a.value(&["-f", "--file"]) {
                had = true;
                match inv.read("heroku", f, false) {
                    Ok(text) => findings.extend(inv.client_sql("heroku", &text, Dialect::Postgres, psql_prepare)),
                    Err(f) => findings.push(*f),
                }
            }
            if !had {
                findings.extend(inv.stdin_sql("heroku", Dialect::Postgres, psql_prepare));
            }
            return cloud::on(findings, res("app database"), Some(Engine::Postgres));
        }
        _ => return Outcome::default(),
    };
    let detail = format!("heroku {sub} {what}");
    cloud::delete(inv, "heroku", FindingKind::DeleteCloudDatabase, res(kind), detail)
}

/// `heroku run [-a APP] [--] COMMAND...`: the command as a command line of its own.
fn run(inv: &Invocation, sub: &str) -> Outcome {
    let words = &inv.args[1..];
    let mut i = 0;
    let mut app = inv.env_var("HEROKU_APP").map(str::to_string);
    while let Some(w) = words.get(i) {
        let t = w.text.as_str();
        if t == "--" {
            i += 1;
            break;
        }
        if !t.starts_with('-') {
            break;
        }
        i += 1;
        let takes = matches!(
            t,
            "-a" | "--app" | "-r" | "--remote" | "-s" | "--size" | "-e" | "--env" | "--type"
        );
        if matches!(t, "-a" | "--app") {
            app = words.get(i).map(|w| w.text.clone());
        } else if let Some(v) = t.strip_prefix("--app=") {
            app = Some(v.to_string());
        }
        if takes {
            i += 1;
        }
    }
    let inner = join_words(words.get(i..).unwrap_or(&[]));
    if inner.is_empty() {
        return Outcome::default();
    }
    let analysis = analyze_command(&inner, inv.lookup);
    if analysis.findings.is_empty() {
        return Outcome::default();
    }
    let where_ = format!("on Heroku app {}", app.as_deref().unwrap_or("(the git remote's app)"));
    let findings = analysis
        .findings
        .into_iter()
        .map(|mut f| {
            f.detail = format!("{} ({where_}, through heroku {sub})", f.detail.trim_end_matches('.'));
            f.statement = Some(inv.statement.to_string());
            f
        })
        .collect();
    let res = cloud::resource(
        "Heroku",
        "app database",
        app.as_deref(),
        Vec::new(),
        format!(
            "capture a backup first (`heroku pg:backups:capture --app {}`)",
            app.as_deref().unwrap_or("APP")
        ),
    );
    cloud::on(findings, res, None)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;

    #[test]
    fn recognizes() {
        assert_eq!(
            run(
                &RECOGNIZER,
                "heroku pg:reset DATABASE_URL --app shop-prod --confirm shop-prod"
            ),
            [FindingKind::DeleteCloudDatabase]
        );
        assert_eq!(
            run(&RECOGNIZER, "heroku addons:destroy heroku-postgresql -a shop"),
            [FindingKind::DeleteCloudDatabase]
        );
        assert_eq!(
            run(&RECOGNIZER, "heroku run -a shop rails db:drop"),
            [FindingKind::DropDatabase]
        );
        assert_eq!(
            run(&RECOGNIZER, "heroku pg:psql -a shop -c 'TRUNCATE users'"),
            [FindingKind::Truncate]
        );
        for c in [
            "heroku run -a shop rails console",
            "heroku pg:info -a shop",
            "heroku addons:destroy papertrail -a shop",
            "heroku pg:backups:capture -a shop",
            "heroku logs --tail",
        ] {
            assert!(run(&RECOGNIZER, c).is_empty(), "{c}");
        }
    }
}
