//! Kubernetes: `kubectl delete` of persistent volume claims, persistent volumes,
//! namespaces (every claim in them), database statefulsets and database custom resources
//! (CloudNativePG, Zalando, Percona...), by name or from the manifests given with `-f`;
//! and `helm uninstall` of a database release.
//!
//! A StatefulSet's volume claims outlive it unless its retention policy says otherwise,
//! so a statefulset is flagged only when its name says database; `kubectl delete all`
//! does not include claims but does include statefulsets.

use crate::config::yaml::{self, Node};
use crate::finding::FindingKind;

use super::cloud::{self, db_like};
use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::Spec;

pub const KUBECTL: Recognizer = Recognizer {
    tool: "kubectl",
    programs: &["kubectl", "oc"],
    engine: None,
    destructive_potential: false,
    recognize: kubectl,
};

pub const HELM: Recognizer = Recognizer {
    tool: "helm",
    programs: &["helm"],
    engine: None,
    destructive_potential: false,
    recognize: helm,
};

const SPEC: Spec = Spec {
    short: "nflkoc",
    long: &[
        "namespace",
        "context",
        "filename",
        "selector",
        "kubeconfig",
        "cluster",
        "user",
        "output",
        "field-selector",
        "grace-period",
        "timeout",
        "kustomize",
        "kube-context",
        "wait-for",
    ],
    ..Spec::DEFAULT
};

const SAFEGUARD: &str = "check the volumes' reclaim policy first (`kubectl get pv`: `Retain` keeps the disk after \
its claim is deleted; `kubectl patch pv NAME -p '{\"spec\":{\"persistentVolumeReclaimPolicy\":\"Retain\"}}'`) and \
take a VolumeSnapshot or a dump of the database";

/// What deleting one object of this kind loses, or None.
fn loses(kind: &str, name: &str, all: bool) -> Option<(FindingKind, &'static str)> {
    let k = kind.to_ascii_lowercase();
    let k = k.split('.').next().unwrap_or(&k).to_string();
    match k.as_str() {
        "pvc" | "persistentvolumeclaim" | "persistentvolumeclaims" => {
            Some((FindingKind::DeleteVolume, "the persistent volume claim and, unless its volume is retained, the data on it"))
        }
        "pv" | "persistentvolume" | "persistentvolumes" => {
            Some((FindingKind::DeleteVolume, "the persistent volume and, with a Delete reclaim policy, the disk behind it"))
        }
        "ns" | "namespace" | "namespaces" => Some((
            FindingKind::DeleteVolume,
            "the namespace with every object in it, its persistent volume claims and their data included",
        )),
        "sts" | "statefulset" | "statefulsets" if all || db_like(name) => Some((
            FindingKind::DeleteVolume,
            "the database statefulset (its claims are kept unless its retention policy deletes them; the database stops)",
        )),
        "postgresql" | "postgresqls" | "perconaxtradbcluster" | "perconaxtradbclusters" | "pxc" | "mongodbcommunity"
        | "psmdb" | "perconaservermongodb" | "mysqlcluster" | "mysqlclusters" | "innodbcluster" | "innodbclusters"
        | "redisfailover" | "postgrescluster" | "postgresclusters" => Some((
            FindingKind::DeleteCloudDatabase,
            "the database custom resource: its operator deletes the database and usually its volumes",
        )),
        "cluster" | "clusters" if kind.contains("cnpg") || db_like(name) => Some((
            FindingKind::DeleteCloudDatabase,
            "the database cluster resource: its operator deletes the database and usually its volumes",
        )),
        "all" => Some((FindingKind::DeleteVolume, "every workload, statefulsets included")),
        _ => None,
    }
}

fn kubectl(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    if a.help() || a.p(0) != "delete" || a.has(&["--dry-run", "--dry-run=client", "--dry-run=server"]) {
        return Outcome::default();
    }
    let all = a.has(&["--all", "-A", "--all-namespaces"]);
    let mut objects: Vec<(String, String)> = Vec::new();
    // `delete pvc a b`, `delete pvc/a sts/b`, `delete pvc,sts x`.
    let ops: Vec<&str> = a.pos.iter().skip(1).map(|w| w.text.as_str()).collect();
    if let Some(first) = ops.first() {
        if first.contains('/') {
            for o in &ops {
                if let Some((k, n)) = o.split_once('/') {
                    objects.push((k.to_string(), n.to_string()));
                }
            }
        } else {
            for k in first.split(',') {
                if ops.len() == 1 {
                    objects.push((k.to_string(), String::new()));
                }
                for n in &ops[1..] {
                    objects.push((k.to_string(), n.to_string()));
                }
            }
        }
    }
    let mut findings = Vec::new();
    for o in a.values(&["-f", "--filename", "-k", "--kustomize"]) {
        let path = o.value.as_deref().unwrap_or("");
        match manifests(inv, path, o.dynamic || o.name.contains('k')) {
            Some(objs) => objects.extend(objs),
            None => findings.push(inv.unknown(
                "kubectl",
                format!(
                    "kubectl delete {} {path}: the manifests cannot be read, so what they delete cannot be seen",
                    o.name
                ),
            )),
        }
    }
    let mut first_name = None;
    for (kind, name) in &objects {
        let Some((fk, what)) = loses(kind, name, all) else {
            continue;
        };
        let shown = if name.is_empty() {
            kind.clone()
        } else {
            format!("{kind}/{name}")
        };
        first_name.get_or_insert_with(|| shown.clone());
        findings.push(inv.finding(
            "kubectl",
            fk,
            Some(shown.clone()),
            format!("kubectl delete {shown} deletes {what}"),
            crate::finding::Scope::External,
        ));
    }
    if findings.is_empty() {
        return Outcome::default();
    }
    let mut ctx = Vec::new();
    if let Some(n) = a.value(&["-n", "--namespace"]) {
        ctx.push(format!("namespace {n}"));
    }
    if let Some(c) = a.value(&["--context"]) {
        ctx.push(format!("context {c}"));
    }
    let res = cloud::resource("Kubernetes", "objects", first_name.as_deref(), ctx, SAFEGUARD.into());
    cloud::on(findings, res, None)
}

/// `(kind, name)` of every object in the manifests at `path` (a file, or a directory's
/// YAML files). `None` when they cannot be read (a URL, a kustomization, a missing file).
fn manifests(inv: &Invocation, path: &str, opaque: bool) -> Option<Vec<(String, String)>> {
    if opaque || path.contains("://") {
        return None;
    }
    let files: Vec<String> = if path.ends_with(".yaml") || path.ends_with(".yml") || path.ends_with(".json") {
        vec![path.to_string()]
    } else {
        let walk = inv.lookup.walk_dir(path, &super::data_tree::LIMITS)?;
        walk.entries
            .into_iter()
            .filter(|e| !e.dir && (e.path.ends_with(".yaml") || e.path.ends_with(".yml")))
            .map(|e| e.path)
            .take(200)
            .collect()
    };
    let mut out = Vec::new();
    for f in files {
        let text = inv.lookup.read_file(&f)?;
        for doc in split_documents(&text) {
            let Ok(node) = yaml::parse(doc) else { return None };
            collect(&node, &mut out);
        }
    }
    Some(out)
}

fn split_documents(text: &str) -> Vec<&str> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == "---" || line.starts_with("--- ") {
            docs.push(&text[start..pos]);
            start = pos + line.len();
        }
        pos += line.len();
    }
    docs.push(&text[start..]);
    docs.into_iter().filter(|d| !d.trim().is_empty()).collect()
}

fn collect(node: &Node, out: &mut Vec<(String, String)>) {
    let scalar = |n: Option<&Node>| match n {
        Some(Node::Scalar(s)) => s.clone(),
        _ => String::new(),
    };
    let kind = scalar(node.get("kind"));
    if kind == "List" {
        if let Some(Node::Seq(items)) = node.get("items") {
            for i in items {
                collect(i, out);
            }
        }
        return;
    }
    if !kind.is_empty() {
        let name = scalar(node.get("metadata").and_then(|m| m.get("name")));
        let api = scalar(node.get("apiVersion"));
        out.push((
            if api.contains("cnpg") {
                format!("{kind}.cnpg")
            } else {
                kind
            },
            name,
        ));
    }
}

fn helm(inv: &Invocation) -> Outcome {
    let a = inv.args(&SPEC);
    if a.help() || !matches!(a.p(0), "uninstall" | "delete" | "del" | "un") || a.has(&["--dry-run"]) {
        return Outcome::default();
    }
    let releases: Vec<&str> = a
        .pos
        .iter()
        .skip(1)
        .map(|w| w.text.as_str())
        .filter(|r| db_like(r))
        .collect();
    if releases.is_empty() {
        return Outcome::default();
    }
    let findings = releases
        .iter()
        .map(|r| {
            inv.finding(
                "helm",
                FindingKind::DeleteVolume,
                Some(r.to_string()),
                format!(
                    "helm uninstall {r} removes the database release: the volumes its chart or operator created go with \
it (a StatefulSet's claims stay until deleted)"
                ),
                crate::finding::Scope::External,
            )
        })
        .collect();
    let mut ctx = Vec::new();
    if let Some(n) = a.value(&["-n", "--namespace"]) {
        ctx.push(format!("namespace {n}"));
    }
    if let Some(c) = a.value(&["--kube-context"]) {
        ctx.push(format!("context {c}"));
    }
    let res = cloud::resource(
        "Kubernetes",
        "helm release",
        releases.first().copied(),
        ctx,
        SAFEGUARD.into(),
    );
    cloud::on(findings, res, None)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{run, run_with};
    use super::super::Input;
    use super::*;
    use crate::lookup::MapLookup;

    #[test]
    fn kubectl_deletes() {
        for c in [
            "kubectl delete pvc data-postgres-0 -n db",
            "kubectl delete pvc/data-0 pod/x",
            "kubectl -n prod delete namespace shop",
            "kubectl delete sts postgres",
            "kubectl delete statefulset,pvc -l app=mysql --all",
        ] {
            assert!(!run(&KUBECTL, c).is_empty(), "{c}");
        }
        for c in [
            "kubectl get pvc",
            "kubectl delete pod postgres-0",
            "kubectl delete deploy web",
            "kubectl delete sts web",
            "kubectl delete pvc x --dry-run=client",
        ] {
            assert!(run(&KUBECTL, c).is_empty(), "{c}");
        }
        let mut l = MapLookup::default();
        l.files.insert(
            "k8s/db.yaml".into(),
            b"apiVersion: v1\nkind: Service\nmetadata:\n  name: pg\n---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: pg-data\n".to_vec(),
        );
        l.files.insert(
            "k8s/web.yaml".into(),
            b"kind: Deployment\nmetadata:\n  name: web\n".to_vec(),
        );
        let o = run_with(&KUBECTL, "kubectl delete -f k8s/db.yaml", &l, &Input::Terminal);
        assert_eq!(o.findings.len(), 1, "{:?}", o.findings);
        assert_eq!(
            run_with(&KUBECTL, "kubectl delete -f k8s/", &l, &Input::Terminal)
                .findings
                .len(),
            1
        );
        assert!(
            run_with(&KUBECTL, "kubectl delete -f k8s/web.yaml", &l, &Input::Terminal)
                .findings
                .is_empty()
        );
        assert_eq!(
            run(&KUBECTL, "kubectl delete -f https://x/y.yaml"),
            [FindingKind::Unknown]
        );
    }

    #[test]
    fn helm_uninstall() {
        assert_eq!(
            run(&HELM, "helm uninstall postgresql -n db"),
            [FindingKind::DeleteVolume]
        );
        assert!(run(&HELM, "helm uninstall frontend").is_empty());
        assert!(run(&HELM, "helm list").is_empty());
    }
}
