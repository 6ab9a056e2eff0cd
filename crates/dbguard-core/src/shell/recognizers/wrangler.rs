//! Cloudflare Wrangler: `d1 delete`, `d1 time-travel restore` (back to an earlier point,
//! losing later writes), and SQL through `d1 execute --command|--file` (the SQLite core).
//! `d1 execute` works on the local copy unless `--remote` is given (Wrangler 3.33 and
//! later), so the environment follows that.

use crate::finding::FindingKind;
use crate::sql::Dialect;
use crate::target::Engine;

use super::cloud;
use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "wrangler",
    programs: &["wrangler"],
    engine: None,
    destructive_potential: false,
    recognize,
};

const SPEC: Spec = Spec {
    short: "ce",
    long: &[
        "command",
        "file",
        "config",
        "env",
        "timestamp",
        "bookmark",
        "persist-to",
    ],
    ..Spec::DEFAULT
};

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    if a.help() || a.has(&["-h"]) || a.p(0) != "d1" {
        return Outcome::default();
    }
    let name = Some(a.p(2)).filter(|s| !s.is_empty());
    let mut ctx = Vec::new();
    if let Some(e) = a.value(&["-e", "--env"]) {
        ctx.push(format!("env {e}"));
    }
    let export = format!(
        "export it first (`wrangler d1 export {0} --remote --output {0}-backup.sql`); Time Travel \
(`wrangler d1 time-travel info {0}`) restores any minute of the last 30 days, but not after `d1 delete`",
        name.unwrap_or("NAME")
    );
    match a.p(1) {
        "delete" => {
            let res = cloud::resource("Cloudflare D1", "database", name, ctx, export);
            let detail = "wrangler d1 delete deletes the D1 database and every table in it".to_string();
            cloud::delete(inv, "wrangler", FindingKind::DeleteCloudDatabase, res, detail)
        }
        "time-travel" if a.p(2) == "restore" => {
            let name = Some(a.p(3)).filter(|s| !s.is_empty());
            let res = cloud::resource("Cloudflare D1", "database", name, ctx, export);
            let detail =
                "wrangler d1 time-travel restore takes the database back to an earlier point: what was written \
since is lost (Time Travel can undo it)"
                    .to_string();
            cloud::delete(inv, "wrangler", FindingKind::DeleteCloudDatabase, res, detail)
        }
        "execute" => {
            let mut findings = Vec::new();
            for o in a.values(&["--command"]) {
                let sql = o.value.as_deref().unwrap_or("");
                if o.dynamic {
                    findings.push(inv.unknown(
                        "wrangler",
                        format!("wrangler d1 execute runs SQL computed at run time ({sql})"),
                    ));
                } else {
                    findings.extend(inv.sql("wrangler", sql, Dialect::Sqlite));
                }
            }
            for o in a.values(&["--file"]) {
                match inv.read("wrangler", o.value.as_deref().unwrap_or(""), o.dynamic) {
                    Ok(text) => findings.extend(inv.sql("wrangler", &text, Dialect::Sqlite)),
                    Err(f) => findings.push(*f),
                }
            }
            let remote = a.has(&["--remote"]);
            let mut res = if remote {
                cloud::resource("Cloudflare D1", "database", name, ctx, export)
            } else {
                cloud::resource(
                    "Cloudflare D1 (local)",
                    "database",
                    name,
                    ctx,
                    "copy the local state first (`cp -r .wrangler/state .wrangler/state.bak`)".into(),
                )
            };
            res.local = !remote;
            cloud::on(findings, res, Some(Engine::Sqlite))
        }
        _ => Outcome::default(),
    }
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
            run(&RECOGNIZER, "wrangler d1 delete shop -y"),
            [FindingKind::DeleteCloudDatabase]
        );
        assert_eq!(
            run(
                &RECOGNIZER,
                "wrangler d1 execute shop --remote --command 'DROP TABLE users'"
            ),
            [FindingKind::DropTable]
        );
        let mut l = MapLookup::default();
        l.files.insert("wipe.sql".into(), b"DELETE FROM orders;".to_vec());
        let o = run_with(
            &RECOGNIZER,
            "wrangler d1 execute shop --file=wipe.sql",
            &l,
            &Input::Terminal,
        );
        assert_eq!(o.findings[0].kind, FindingKind::DeleteAll);
        assert!(o.hint.and_then(|h| h.resource).is_some_and(|r| r.local));
        for c in [
            "wrangler d1 execute shop --remote --command 'SELECT count(*) FROM users'",
            "wrangler d1 list",
            "wrangler d1 export shop --remote --output x.sql",
            "wrangler deploy",
        ] {
            assert!(run(&RECOGNIZER, c).is_empty(), "{c}");
        }
    }
}
