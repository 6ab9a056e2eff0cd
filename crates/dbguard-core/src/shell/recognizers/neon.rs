//! Neon CLI (`neonctl`, `neon`): deleting projects, branches and databases, and resetting
//! or restoring a branch over its current data.

use crate::finding::FindingKind;

use super::cloud::{self, context};
use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "neonctl",
    programs: &["neonctl", "neon"],
    engine: None,
    destructive_potential: true,
    recognize,
};

const SPEC: Spec = Spec {
    short: "o",
    long: &[
        "project-id",
        "branch",
        "org-id",
        "api-key",
        "output",
        "config-dir",
        "parent",
        "source-timestamp",
    ],
    ..Spec::DEFAULT
};

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    if a.help() || a.has(&["-h"]) {
        return Outcome::default();
    }
    let id = Some(a.p(2)).filter(|s| !s.is_empty());
    let (kind, what) = match (a.p(0), a.p(1)) {
        ("projects" | "project", "delete" | "rm") => {
            ("project", "deletes the project with every branch and database in it")
        }
        ("branches" | "branch", "delete" | "rm") => ("branch", "deletes the branch and its data"),
        ("branches" | "branch", "reset") => (
            "branch",
            "resets the branch to its parent: every change made on it is lost",
        ),
        ("branches" | "branch", "restore") => (
            "branch",
            "restores the branch to another point: what was written since is lost",
        ),
        ("databases" | "database" | "db", "delete" | "rm") => ("database", "deletes the database and its tables"),
        _ => return Outcome::default(),
    };
    let ctx = context(&a, &[(&["--project-id"], "project"), (&["--branch"], "branch")]);
    let safeguard = format!(
        "branch it first (`neonctl branches create --name before-change --parent {}`): a copy in seconds that \
outlives the change; a deleted branch is gone once outside the project's restore window",
        if kind == "branch" {
            id.unwrap_or("BRANCH")
        } else {
            "main"
        }
    );
    let detail = format!("neonctl {} {} {what}", a.p(0), a.p(1));
    let res = cloud::resource("Neon", kind, id, ctx, safeguard);
    cloud::delete(inv, "neonctl", FindingKind::DeleteCloudDatabase, res, detail)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;

    #[test]
    fn recognizes() {
        for c in [
            "neonctl branches delete br-main-123 --project-id p-1",
            "neonctl projects delete p-1",
            "neon branch reset dev --parent",
            "neonctl databases delete app --branch main",
        ] {
            assert_eq!(run(&RECOGNIZER, c), [FindingKind::DeleteCloudDatabase], "{c}");
        }
        for c in [
            "neonctl branches list",
            "neonctl branches create --name dev",
            "neonctl connection-string",
        ] {
            assert!(run(&RECOGNIZER, c).is_empty(), "{c}");
        }
    }
}
