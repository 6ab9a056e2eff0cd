//! DigitalOcean CLI (`doctl`): deleting managed database clusters and the databases in them.

use crate::finding::FindingKind;

use super::cloud;
use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "doctl",
    programs: &["doctl"],
    engine: None,
    destructive_potential: true,
    recognize,
};

const SPEC: Spec = Spec {
    short: "toc",
    long: &["access-token", "output", "context", "config", "format", "api-url"],
    ..Spec::DEFAULT
};

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    if a.help() || a.has(&["-h"]) {
        return Outcome::default();
    }
    let is_databases = matches!(a.p(0), "databases" | "database" | "db" | "d");
    let (kind, name, what) = match (is_databases, a.p(1), a.p(2)) {
        (true, "delete" | "rm" | "d", _) => (
            "database cluster",
            Some(a.p(2)),
            "deletes the cluster with every database and row in it",
        ),
        (true, "db", "delete" | "rm" | "d") => ("database", Some(a.p(4)), "deletes the database and its tables"),
        _ => return Outcome::default(),
    };
    let ctx: Vec<String> = a
        .value(&["--context"])
        .map(|c| format!("context {c}"))
        .into_iter()
        .collect();
    let safeguard = "check the cluster's backups first (`doctl databases backups list CLUSTER_ID`): backups of a \
deleted cluster go with it; fork it (`doctl databases fork`) to keep a copy"
        .to_string();
    let res = cloud::resource("DigitalOcean", kind, name.filter(|n| !n.is_empty()), ctx, safeguard);
    cloud::delete(
        inv,
        "doctl",
        FindingKind::DeleteCloudDatabase,
        res,
        format!("doctl {} {} {what}", a.p(0), a.p(1)),
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;

    #[test]
    fn recognizes() {
        for c in [
            "doctl databases delete 9cc10173-e9ea-4176-9dbc-a4cee4c4ff30 --force",
            "doctl databases db delete 9cc10173 app --force",
            "doctl d rm 9cc10173 -f",
        ] {
            assert_eq!(run(&RECOGNIZER, c), [FindingKind::DeleteCloudDatabase], "{c}");
        }
        for c in [
            "doctl databases list",
            "doctl databases backups list 9cc10173",
            "doctl databases db list 9cc10173",
            "doctl compute droplet delete web-1",
            "doctl databases delete --help",
        ] {
            assert!(run(&RECOGNIZER, c).is_empty(), "{c}");
        }
    }
}
