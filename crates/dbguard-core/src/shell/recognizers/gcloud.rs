//! Google Cloud CLI: deleting Cloud SQL instances and databases (and their backups, or
//! overwriting an instance by restoring a backup into it), Spanner, AlloyDB, Firestore
//! and Bigtable databases. `alpha`/`beta` command groups are the same commands.

use crate::finding::FindingKind;

use super::cloud::{self, context};
use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "gcloud",
    programs: &["gcloud"],
    engine: None,
    destructive_potential: false,
    recognize,
};

const SPEC: Spec = Spec {
    short: "",
    long: &[
        "project",
        "region",
        "zone",
        "location",
        "instance",
        "database",
        "format",
        "account",
        "configuration",
        "verbosity",
        "impersonate-service-account",
        "billing-project",
        "flags-file",
        "restore-instance",
        "backup-instance",
        "cluster",
    ],
    ..Spec::DEFAULT
};

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    if a.help() || a.has(&["-h"]) {
        return Outcome::default();
    }
    let words: Vec<&str> = a
        .pos
        .iter()
        .map(|w| w.text.as_str())
        .skip_while(|w| matches!(*w, "alpha" | "beta"))
        .collect();
    let at = |i: usize| words.get(i).copied().unwrap_or("");
    let mut ctx = context(&a, &[(&["--project"], "project"), (&["--region"], "region")]);
    if let (None, Some(p)) = (a.value(&["--project"]), inv.env_var("CLOUDSDK_CORE_PROJECT")) {
        ctx.insert(0, format!("project {p}"));
    }
    let instance = a.value(&["--instance"]);
    let name = at(3);
    let sql_guard = |i: &str| {
        format!(
            "check deletion protection (`gcloud sql instances describe {i} --format='value(settings.deletionProtectionEnabled)'`; \
`gcloud sql instances patch {i} --deletion-protection` turns it on) and export the data to Cloud Storage \
(`gcloud sql export sql {i} gs://BUCKET/{i}.sql.gz --database=DB`): the instance's backups go with it unless it retains them"
        )
    };
    let (provider, kind, id, what, safeguard) = match (at(0), at(1), at(2)) {
        ("sql", "instances", "delete") => (
            "Google Cloud SQL",
            "instance",
            Some(name),
            "the instance, every database in it and its backups".to_string(),
            sql_guard(name),
        ),
        ("sql", "databases", "delete") => (
            "Google Cloud SQL",
            "database",
            Some(name),
            format!("the database {name} of instance {}", instance.unwrap_or("?")),
            sql_guard(instance.unwrap_or("INSTANCE")),
        ),
        ("sql", "backups", "delete") => (
            "Google Cloud SQL",
            "backup",
            Some(name),
            "a backup of an instance (perhaps the last one)".to_string(),
            "restore it into a new instance first if it may be the last copy".to_string(),
        ),
        ("sql", "backups", "restore") => {
            let target = a.value(&["--restore-instance"]);
            (
                "Google Cloud SQL",
                "instance",
                target,
                "the current data of the instance, overwritten by the backup".to_string(),
                sql_guard(target.unwrap_or("INSTANCE")),
            )
        }
        ("spanner", "instances" | "databases", "delete") => (
            "Google Cloud Spanner",
            if at(1) == "instances" { "instance" } else { "database" },
            Some(name),
            "it and every row in it".to_string(),
            "turn on database deletion protection (`gcloud spanner databases update DB --instance=I \
--enable-drop-protection`) and take a backup (`gcloud spanner backups create`)"
                .to_string(),
        ),
        ("alloydb", "clusters" | "instances", "delete") => (
            "Google AlloyDB",
            if at(1) == "clusters" { "cluster" } else { "instance" },
            Some(name),
            "it and the databases in it".to_string(),
            "take an on-demand backup first (`gcloud alloydb backups create`)".to_string(),
        ),
        ("firestore", "databases", "delete") => (
            "Google Firestore",
            "database",
            a.value(&["--database"]).or(Some(name)),
            "the database and every document in it".to_string(),
            "check delete protection (`gcloud firestore databases describe`) and export it first \
(`gcloud firestore export gs://BUCKET`)"
                .to_string(),
        ),
        ("bigtable", "instances", "delete") => (
            "Google Bigtable",
            "instance",
            Some(name),
            "the instance and every table in it".to_string(),
            "take table backups first (`gcloud bigtable backups create`)".to_string(),
        ),
        _ => return Outcome::default(),
    };
    let detail = format!("gcloud {} {} {} deletes {what}", at(0), at(1), at(2));
    let res = cloud::resource(provider, kind, id, ctx, safeguard);
    cloud::delete(inv, "gcloud", FindingKind::DeleteCloudDatabase, res, detail)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;

    #[test]
    fn recognizes() {
        assert_eq!(
            run(&RECOGNIZER, "gcloud sql instances delete shop-prod --project acme -q"),
            [FindingKind::DeleteCloudDatabase]
        );
        assert_eq!(
            run(&RECOGNIZER, "gcloud beta sql databases delete app --instance=main"),
            [FindingKind::DeleteCloudDatabase]
        );
        for c in [
            "gcloud sql instances list",
            "gcloud sql instances describe x",
            "gcloud sql backups create --instance=x",
        ] {
            assert!(run(&RECOGNIZER, c).is_empty(), "{c}");
        }
    }
}
