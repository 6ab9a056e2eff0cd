//! Firebase CLI: deleting Firestore documents, collections and databases, and removing or
//! overwriting Realtime Database paths. None of these has a snapshot dbguard can take.

use crate::finding::FindingKind;

use super::cloud::{self, context};
use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "firebase",
    programs: &["firebase", "firebase-tools"],
    engine: None,
    destructive_potential: true,
    recognize,
};

const SPEC: Spec = Spec {
    short: "P",
    long: &["project", "database", "instance", "data", "token", "config", "account"],
    ..Spec::DEFAULT
};

fn recognize(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    if a.help() || a.has(&["-h"]) {
        return Outcome::default();
    }
    let path = Some(a.p(1)).filter(|s| !s.is_empty());
    let (kind, name, what) = match a.p(0) {
        "firestore:delete" if a.has(&["--all-collections"]) => (
            "database",
            a.value(&["--database"]).or(Some("(default)")),
            "deletes every document of every collection".to_string(),
        ),
        "firestore:delete" if a.has(&["-r", "--recursive"]) => (
            "collection",
            path,
            "deletes the documents and every subcollection below the path".to_string(),
        ),
        "firestore:delete" => ("document", path, "deletes the document".to_string()),
        "firestore:databases:delete" => ("database", path, "deletes the Firestore database".to_string()),
        "database:remove" => (
            "Realtime Database path",
            path,
            match path {
                Some("/") | None => "removes every node of the Realtime Database".to_string(),
                Some(p) => format!("removes {p} and every node below it"),
            },
        ),
        "database:set" => (
            "Realtime Database path",
            path,
            "replaces the data at the path and below it".to_string(),
        ),
        _ => return Outcome::default(),
    };
    let ctx = context(
        &a,
        &[
            (&["--project", "-P"], "project"),
            (&["--database"], "database"),
            (&["--instance"], "instance"),
        ],
    );
    let safeguard = "export it first (`gcloud firestore export gs://BUCKET`, or the Realtime Database's \
`firebase database:get / > backup.json`) and check that point-in-time recovery is on: deleted \
documents are not recoverable otherwise"
        .to_string();
    let detail = format!("firebase {} {what}", a.p(0));
    let res = cloud::resource("Firebase", kind, name, ctx, safeguard);
    cloud::delete(inv, "firebase", FindingKind::DeleteCloudDatabase, res, detail)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;

    #[test]
    fn recognizes() {
        for c in [
            "firebase firestore:delete --all-collections --force",
            "firebase firestore:delete users -r -P shop-prod",
            "firebase firestore:delete users/alice",
            "firebase firestore:databases:delete staging",
            "firebase database:remove / --force",
            "firebase database:set /config config.json -f",
        ] {
            assert_eq!(run(&RECOGNIZER, c), [FindingKind::DeleteCloudDatabase], "{c}");
        }
        for c in [
            "firebase deploy",
            "firebase emulators:start",
            "firebase database:get /",
            "firebase firestore:indexes",
            "firebase firestore:delete --help",
        ] {
            assert!(run(&RECOGNIZER, c).is_empty(), "{c}");
        }
    }
}
