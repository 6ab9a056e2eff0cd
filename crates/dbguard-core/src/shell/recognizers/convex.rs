//! Convex CLI: `convex import --replace` / `--replace-all` deletes the rows of the tables it
//! imports into (or of every table) before writing the file's. `--prod` aims it at the
//! production deployment.

use crate::finding::FindingKind;

use super::cloud;
use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "convex",
    programs: &["convex"],
    engine: None,
    destructive_potential: true,
    recognize,
};

const SPEC: Spec = Spec {
    short: "",
    long: &[
        "table",
        "format",
        "deployment-name",
        "url",
        "admin-key",
        "env-file",
        "preview-name",
        "component",
    ],
    ..Spec::DEFAULT
};

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    if a.help() || a.has(&["-h"]) || a.p(0) != "import" {
        return Outcome::default();
    }
    let table = a.value(&["--table"]);
    let what = if a.has(&["--replace-all"]) {
        "deletes the rows of every table of the deployment, then imports the file".to_string()
    } else if a.has(&["--replace"]) {
        match table {
            Some(t) => format!("deletes every row of table {t}, then imports the file"),
            None => "deletes every row of the tables in the file, then imports it".to_string(),
        }
    } else {
        return Outcome::default();
    };
    let mut ctx = Vec::new();
    if a.has(&["--prod"]) {
        ctx.push("deployment prod".to_string());
    }
    if let Some(d) = a.value(&["--deployment-name"]) {
        ctx.push(format!("deployment {d}"));
    }
    let safeguard = "export it first (`npx convex export --path backup.zip`, with `--prod` for production): an \
import with --replace keeps nothing of what it replaces"
        .to_string();
    let res = cloud::resource("Convex", "table data", table, ctx, safeguard);
    cloud::delete(
        inv,
        "convex",
        FindingKind::DeleteCloudDatabase,
        res,
        format!("convex import {what}"),
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;

    #[test]
    fn recognizes() {
        for c in [
            "convex import --replace data.zip",
            "convex import --table users --replace users.jsonl --prod",
            "convex import --replace-all snapshot.zip -y",
        ] {
            assert_eq!(run(&RECOGNIZER, c), [FindingKind::DeleteCloudDatabase], "{c}");
        }
        for c in [
            "convex import --table users users.jsonl",
            "convex import --append --table users users.jsonl",
            "convex export --path backup.zip",
            "convex dev",
            "convex deploy",
        ] {
            assert!(run(&RECOGNIZER, c).is_empty(), "{c}");
        }
    }
}
