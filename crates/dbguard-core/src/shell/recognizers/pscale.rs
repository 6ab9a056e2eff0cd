//! PlanetScale CLI: deleting databases, branches and backups, and SQL piped into
//! `pscale shell` (the MySQL core).

use crate::finding::FindingKind;
use crate::sql::Dialect;
use crate::target::Engine;

use super::cloud::{self, context};
use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "pscale",
    programs: &["pscale"],
    engine: None,
    destructive_potential: true,
    recognize,
};

const SPEC: Spec = Spec {
    short: "",
    long: &["org", "service-token", "service-token-id", "format"],
    ..Spec::DEFAULT
};

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    if a.help() || a.has(&["-h"]) {
        return Outcome::default();
    }
    let db = Some(a.p(2)).filter(|s| !s.is_empty());
    let branch = Some(a.p(3)).filter(|s| !s.is_empty());
    let ctx = context(&a, &[(&["--org"], "org")]);
    let safeguard = format!(
        "create a backup first (`pscale backup create {} {}`) and keep deletion protection on for production branches",
        db.unwrap_or("DB"),
        branch.unwrap_or("BRANCH")
    );
    let (kind, name, what) = match (a.p(0), a.p(1)) {
        ("database" | "db", "delete" | "rm") => ("database", db, "the database with every branch"),
        ("branch", "delete" | "rm") => ("branch", branch, "the branch and its data"),
        ("backup", "delete" | "rm") => (
            "backup",
            Some(a.p(4)).filter(|s| !s.is_empty()),
            "a backup (perhaps the last one)",
        ),
        ("shell", _) => {
            let res = cloud::resource(
                "PlanetScale",
                "branch",
                Some(a.p(2)).filter(|s| !s.is_empty()),
                ctx,
                safeguard,
            );
            return cloud::on(
                inv.stdin_sql("pscale", Dialect::Mysql, super::plain_sql),
                res,
                Some(Engine::Mysql),
            );
        }
        _ => return Outcome::default(),
    };
    let detail = format!("pscale {} {} deletes {what}", a.p(0), a.p(1));
    let mut ctx = ctx;
    if kind != "database" {
        ctx.extend(db.map(|d| format!("database {d}")));
    }
    let res = cloud::resource("PlanetScale", kind, name, ctx, safeguard);
    cloud::delete(inv, "pscale", FindingKind::DeleteCloudDatabase, res, detail)
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
            run(&RECOGNIZER, "pscale database delete shop --force"),
            [FindingKind::DeleteCloudDatabase]
        );
        assert_eq!(
            run(&RECOGNIZER, "pscale branch delete shop dev"),
            [FindingKind::DeleteCloudDatabase]
        );
        let o = run_with(
            &RECOGNIZER,
            "pscale shell shop main",
            &MapLookup::default(),
            &Input::Text("TRUNCATE orders;".into()),
        );
        assert_eq!(o.findings[0].kind, FindingKind::Truncate);
        for c in [
            "pscale branch list shop",
            "pscale backup create shop main",
            "pscale connect shop main",
        ] {
            assert!(run(&RECOGNIZER, c).is_empty(), "{c}");
        }
    }
}
