//! Railway CLI: deleting volumes, environments (with their services and volumes) and
//! projects. Railway's GraphQL API sent with curl (`volumeDelete`...) is recognized in
//! [`super::http_api`].

use crate::finding::FindingKind;

use super::cloud;
use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "railway",
    programs: &["railway"],
    engine: None,
    destructive_potential: false,
    recognize,
};

const SPEC: Spec = Spec {
    short: "vse",
    long: &["volume", "service", "environment", "project"],
    ..Spec::DEFAULT
};

/// What Railway offers to get a volume back.
pub const SAFEGUARD: &str = "back the volume up first (its Backups tab in the Railway dashboard, or a dump of the \
database it holds); Railway keeps volume backups only when they were made";

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    if a.help() || a.has(&["-h"]) {
        return Outcome::default();
    }
    let env = a.value(&["-e", "--environment"]);
    let (kind, finding, name, what) = match (a.p(0), a.p(1)) {
        ("volume" | "volumes", "delete" | "remove" | "rm") => {
            let v = a.value(&["-v", "--volume"]).or(Some(a.p(2)).filter(|s| !s.is_empty()));
            (
                "volume",
                FindingKind::DeleteVolume,
                v,
                "deletes the volume and the data on it",
            )
        }
        ("environment" | "env", "delete" | "remove" | "rm") => {
            let e = Some(a.p(2)).filter(|s| !s.is_empty()).or(env);
            (
                "environment",
                FindingKind::DeleteCloudDatabase,
                e,
                "deletes the environment with its services, databases and volumes",
            )
        }
        ("delete", _) => (
            "project",
            FindingKind::DeleteCloudDatabase,
            a.value(&["-p", "--project"]).or(Some(a.p(1)).filter(|s| !s.is_empty())),
            "deletes the project with its services, databases and volumes",
        ),
        _ => return Outcome::default(),
    };
    let mut ctx = Vec::new();
    if let Some(e) = env.filter(|e| Some(*e) != name) {
        ctx.push(format!("environment {e}"));
    }
    let detail = format!(
        "railway {} {what}",
        a.pos
            .iter()
            .take(2)
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let res = cloud::resource("Railway", kind, name, ctx, SAFEGUARD.to_string());
    cloud::delete(inv, "railway", finding, res, detail)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;

    #[test]
    fn recognizes() {
        assert_eq!(
            run(&RECOGNIZER, "railway volume delete --volume pg-data -y"),
            [FindingKind::DeleteVolume]
        );
        assert_eq!(
            run(&RECOGNIZER, "railway environment delete production"),
            [FindingKind::DeleteCloudDatabase]
        );
        for c in [
            "railway volume list",
            "railway up",
            "railway run npm start",
            "railway logs",
        ] {
            assert!(run(&RECOGNIZER, c).is_empty(), "{c}");
        }
    }
}
