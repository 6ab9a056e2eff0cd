//! Fly.io CLI (`fly`, `flyctl`): destroying volumes, Postgres clusters, and apps that keep
//! data on volumes. An app is taken to hold data when its name says database, when the
//! `fly.toml` of the working directory (the app it deploys) mounts a volume, or when
//! nothing says otherwise (`fly apps destroy` of an app dbguard cannot see).

use crate::finding::FindingKind;

use super::cloud::{self, db_like};
use super::{Invocation, Outcome, Recognizer};
use crate::shell::words::{Args, Spec};

pub const RECOGNIZER: Recognizer = Recognizer {
    tool: "fly",
    programs: &["fly", "flyctl"],
    engine: None,
    destructive_potential: false,
    recognize,
};

const SPEC: Spec = Spec {
    short: "acor",
    long: &["app", "config", "org", "region", "access-token"],
    ..Spec::DEFAULT
};

fn recognize(inv: &Invocation) -> Outcome {
    let a: Args = inv.args(&SPEC);
    if a.help() || a.has(&["-h"]) {
        return Outcome::default();
    }
    let app = a.value(&["-a", "--app"]).or_else(|| inv.env_var("FLY_APP"));
    let snapshot_guard = |vol: &str| {
        format!(
            "take a volume snapshot first (`fly volumes snapshots create {vol}`) and check the existing ones \
(`fly volumes snapshots list {vol}`)"
        )
    };
    let (kind, finding, name, what, safeguard) = match (a.p(0), a.p(1)) {
        ("volumes" | "volume" | "vol", "destroy" | "delete" | "rm") => {
            let id = a.p(2);
            (
                "volume",
                FindingKind::DeleteVolume,
                Some(id),
                format!("destroys the volume {id} and the data on it"),
                snapshot_guard(if id.is_empty() { "VOLUME_ID" } else { id }),
            )
        }
        ("postgres" | "pg" | "mpg", "destroy" | "delete") => {
            let id = Some(a.p(2)).filter(|s| !s.is_empty()).or(app);
            (
                "Postgres cluster",
                FindingKind::DeleteCloudDatabase,
                id,
                "destroys the Postgres cluster and its databases".to_string(),
                "dump it first (`fly postgres connect` or `fly mpg connect`, then `pg_dump`) and snapshot its volumes"
                    .to_string(),
            )
        }
        ("apps" | "app", "destroy" | "delete" | "remove") | ("destroy", _) => {
            let name = if a.p(0) == "destroy" { a.p(1) } else { a.p(2) };
            let name = Some(name).filter(|s| !s.is_empty()).or(app);
            if !holds_data(name, inv) {
                return Outcome::default();
            }
            let shown = name.unwrap_or("APP");
            (
                "app",
                FindingKind::DeleteVolume,
                name,
                "destroys the app with its machines and volumes, and the data on them".to_string(),
                format!("list its volumes (`fly volumes list -a {shown}`) and snapshot each (`fly volumes snapshots create ID`)"),
            )
        }
        _ => return Outcome::default(),
    };
    let mut ctx = Vec::new();
    if let Some(app) = app.filter(|a| Some(*a) != name) {
        ctx.push(format!("app {app}"));
    }
    let detail = format!("fly {} {} {what}", a.p(0), a.p(1));
    let res = cloud::resource("Fly.io", kind, name, ctx, safeguard);
    cloud::delete(inv, "fly", finding, res, detail)
}

/// Whether destroying this app loses data: a database-like name, or a `fly.toml` for it
/// that mounts volumes; an app dbguard cannot see counts as holding data.
fn holds_data(app: Option<&str>, inv: &Invocation) -> bool {
    if app.is_some_and(db_like) {
        return true;
    }
    let Some(toml) = inv.lookup.read_file("fly.toml") else {
        return true;
    };
    let own_app = toml
        .lines()
        .find_map(|l| l.trim().strip_prefix("app").map(str::trim))
        .and_then(|r| r.strip_prefix('='))
        .map(|v| v.trim().trim_matches(['"', '\'']).to_string());
    if app.is_some() && own_app.as_deref() != app {
        return true;
    }
    toml.lines().any(|l| {
        let l = l.trim();
        l.starts_with("[mounts]") || l.starts_with("[[mounts]]")
    })
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
            run(&RECOGNIZER, "fly volumes destroy vol_123 -y"),
            [FindingKind::DeleteVolume]
        );
        assert_eq!(
            run(&RECOGNIZER, "flyctl apps destroy shop-db --yes"),
            [FindingKind::DeleteVolume]
        );
        assert_eq!(
            run(&RECOGNIZER, "fly apps destroy somebody-else -y"),
            [FindingKind::DeleteVolume]
        );
        let mut l = MapLookup::default();
        l.files
            .insert("fly.toml".into(), b"app = \"web\"\n[http_service]\n".to_vec());
        let o = run_with(&RECOGNIZER, "fly apps destroy web -y", &l, &Input::Terminal);
        assert!(o.findings.is_empty());
        l.files
            .insert("fly.toml".into(), b"app = 'web'\n[mounts]\nsource = 'data'\n".to_vec());
        let o = run_with(&RECOGNIZER, "fly apps destroy web -y", &l, &Input::Terminal);
        assert_eq!(o.findings.len(), 1);
        for c in [
            "fly volumes list",
            "fly deploy",
            "fly volumes snapshots create vol_1",
            "fly status -a shop-db",
        ] {
            assert!(run(&RECOGNIZER, c).is_empty(), "{c}");
        }
    }
}
