//! Debian's PostgreSQL cluster tools: `pg_dropcluster VERSION NAME` deletes the cluster's
//! data directory, every database in it. (`pg_ctlcluster`, `pg_lsclusters` and
//! `pg_createcluster` lose nothing.)

use crate::finding::{FindingKind, Scope};
use crate::target::{Engine, Resource, TargetHint};

use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "pg_dropcluster",
    programs: &["pg_dropcluster"],
    engine: Some(Engine::Postgres),
    destructive_potential: true,
    recognize,
};

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&Spec::DEFAULT);
    if a.help() || a.pos.len() < 2 {
        return Outcome::default();
    }
    let cluster = format!("{}/{}", a.p(0), a.p(1));
    let detail = format!(
        "pg_dropcluster deletes the PostgreSQL cluster {cluster}{}: its data directory and every database in it",
        if a.has(&["--stop"]) { " (stopping it first)" } else { "" }
    );
    let f = inv.finding(
        "pg_dropcluster",
        FindingKind::DeleteFiles,
        Some(cluster.clone()),
        detail,
        Scope::External,
    );
    let hint = TargetHint {
        resource: Some(Resource {
            provider: "PostgreSQL".into(),
            kind: "cluster".into(),
            name: Some(cluster.clone()),
            context: Vec::new(),
            local: true,
            safeguard: format!(
                "dump every database first while it runs (`pg_dumpall --cluster {cluster} > {}.sql`, as the postgres user)",
                cluster.replace('/', "-")
            ),
        }),
        ..TargetHint::default()
    };
    Outcome {
        findings: vec![f],
        hint: Some(hint),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;

    #[test]
    fn recognizes() {
        assert_eq!(
            run(&RECOGNIZER, "pg_dropcluster --stop 16 main"),
            [FindingKind::DeleteFiles]
        );
        assert!(run(&RECOGNIZER, "pg_dropcluster --help").is_empty());
    }
}
