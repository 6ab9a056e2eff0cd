//! Pulumi: `destroy` (alias `down`) of a stack, and `--target` / `up --replace` of a
//! database resource. A stack's resources live in Pulumi's state, which dbguard does not
//! read: a whole-stack destroy is `unknown` (it may or may not hold databases), a
//! targeted one is judged by the resource types in the URNs.

use crate::finding::FindingKind;

use super::cloud::{self, context};
use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "pulumi",
    programs: &["pulumi"],
    engine: None,
    destructive_potential: false,
    recognize,
};

const SPEC: Spec = Spec {
    short: "stCm",
    long: &[
        "stack",
        "target",
        "replace",
        "cwd",
        "config-file",
        "message",
        "parallel",
        "exclude",
    ],
    ..Spec::DEFAULT
};

/// A URN's type token names a database or a volume.
fn data_urn(urn: &str) -> bool {
    let ty = urn.split("::").nth(2).unwrap_or(urn).to_ascii_lowercase();
    [
        "rds/",
        "sql/",
        "database",
        "dynamodb",
        "neon",
        "supabase",
        "planetscale",
        "volume",
        "disk",
        "redis",
        "docdb",
        "cosmosdb",
        "spanner",
        "alloydb",
        "elasticache",
    ]
    .iter()
    .any(|k| ty.contains(k))
}

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    if a.help() || a.has(&["--preview-only", "--dry-run"]) {
        return Outcome::default();
    }
    let stack = a.value(&["-s", "--stack"]).or_else(|| inv.env_var("PULUMI_STACK"));
    let safeguard = "run `pulumi preview --destroy` to see what would go; protect the databases in the program \
(`protect: true`, `retainOnDelete: true`) and take a snapshot with the provider's own tool first"
        .to_string();
    let ctx = context(&a, &[(&["-C", "--cwd"], "directory")]);
    let res = || cloud::resource("Pulumi", "stack", stack, ctx.clone(), safeguard.clone());
    let targets: Vec<&str> = a
        .values(&["-t", "--target", "--replace"])
        .filter_map(|o| o.value.as_deref())
        .collect();
    let finding = match a.p(0) {
        "destroy" | "down" if targets.is_empty() => inv.unknown(
            "pulumi",
            format!(
                "pulumi {} destroys every resource of the stack {}; its resources live in Pulumi's state, which dbguard does \
not read, so whether databases go with it cannot be seen",
                a.p(0),
                stack.unwrap_or("(the selected stack)")
            ),
        ),
        "destroy" | "down" | "up" | "update" => {
            let dbs: Vec<&&str> = targets.iter().filter(|t| data_urn(t)).collect();
            if a.p(0).starts_with('u') && a.values(&["--replace"]).next().is_none() {
                return Outcome::default();
            }
            if dbs.is_empty() && !a.has(&["--target-dependents"]) {
                return Outcome::default();
            }
            let list = dbs.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ");
            inv.finding(
                "pulumi",
                FindingKind::DeleteCloudDatabase,
                Some(list.clone()),
                format!("pulumi {} destroys (or replaces) {list} and the data in it", a.p(0)),
                crate::finding::Scope::External,
            )
        }
        _ => return Outcome::default(),
    };
    cloud::on(vec![finding], res(), None)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;

    #[test]
    fn recognizes() {
        assert_eq!(run(&RECOGNIZER, "pulumi destroy --yes -s prod"), [FindingKind::Unknown]);
        assert_eq!(
            run(
                &RECOGNIZER,
                "pulumi destroy --target 'urn:pulumi:dev::shop::aws:rds/instance:Instance::db' --yes"
            ),
            [FindingKind::DeleteCloudDatabase]
        );
        for c in [
            "pulumi preview",
            "pulumi up --yes",
            "pulumi destroy --target 'urn:pulumi:dev::shop::aws:s3/bucket:Bucket::assets'",
            "pulumi stack ls",
        ] {
            assert!(run(&RECOGNIZER, c).is_empty(), "{c}");
        }
    }
}
