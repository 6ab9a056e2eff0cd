//! What the cloud and infrastructure recognizers share: a database deleted through its
//! provider is a `delete_cloud_database` finding (or `delete_volume` for volumes) whose
//! target is the provider's resource, named as the command names it. dbguard cannot
//! snapshot any of these; each resource carries the provider's own safeguard (deletion
//! protection, a final snapshot, a backup command) for the messages.

use crate::finding::{Finding, FindingKind, Scope};
use crate::target::{Engine, Resource, TargetHint};

use super::{Invocation, Outcome};
use crate::shell::words::Args;

/// A resource held by a provider (not on this machine).
pub fn resource(provider: &str, kind: &str, name: Option<&str>, context: Vec<String>, safeguard: String) -> Resource {
    Resource {
        provider: provider.to_string(),
        kind: kind.to_string(),
        name: name.filter(|n| !n.is_empty()).map(str::to_string),
        context,
        local: false,
        safeguard,
    }
}

/// `label value` for each option given (`profile prod`, `project shop`).
pub fn context(a: &Args, opts: &[(&[&str], &str)]) -> Vec<String> {
    opts.iter()
        .filter_map(|(names, label)| a.value(names).map(|v| format!("{label} {v}")))
        .collect()
}

/// The outcome of a command that deletes `res`: one finding of `kind` (normally
/// `DeleteCloudDatabase`, `DeleteVolume` for volumes), the resource as the target.
pub fn delete(inv: &Invocation, tool: &str, kind: FindingKind, res: Resource, detail: String) -> Outcome {
    let object = Some(res.name.clone().unwrap_or_else(|| res.describe()));
    let f = inv.finding(tool, kind, object, detail, Scope::External);
    on(vec![f], res, None)
}

/// Findings of any kind (SQL run through a provider's CLI, an inner command run on a
/// platform) with the resource as their target.
pub fn on(findings: Vec<Finding>, res: Resource, engine: Option<Engine>) -> Outcome {
    Outcome {
        findings,
        hint: Some(TargetHint {
            engine,
            resource: Some(res),
            ..TargetHint::default()
        }),
    }
}

/// Whether a name looks like a database's (an app, a release, a statefulset, a volume).
pub fn db_like(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    l.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| {
        matches!(
            w,
            "db" | "database"
                | "pg"
                | "postgres"
                | "postgresql"
                | "mysql"
                | "mariadb"
                | "mongo"
                | "mongodb"
                | "redis"
                | "valkey"
                | "sqlite"
                | "cockroach"
                | "cockroachdb"
                | "clickhouse"
                | "cassandra"
                | "timescale"
                | "timescaledb"
                | "cnpg"
                | "data"
                | "pgdata"
        ) || w.ends_with("db")
            || w.starts_with("postgres")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_like_names() {
        for n in [
            "postgres",
            "app-db",
            "my-postgresql",
            "mongodb-0",
            "redis-master",
            "shopdb",
            "pgdata",
        ] {
            assert!(db_like(n), "{n}");
        }
        for n in ["web", "frontend", "api", "nginx-ingress", "worker"] {
            assert!(!db_like(n), "{n}");
        }
    }
}
