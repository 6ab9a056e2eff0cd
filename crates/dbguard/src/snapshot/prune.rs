//! Retention: keep the last N snapshots per database (default 10) and/or delete those
//! older than a duration, never the newest verified snapshot of a database. Clone
//! databases of deleted snapshots are dropped when the server is reachable with the
//! given URL; otherwise the next snapshot on that server drops them as orphans.

use std::collections::BTreeMap;

use serde::Serialize;

use super::manifest::ManifestSummary;
use super::{pg, pg_clone, store};

#[derive(Debug, Clone)]
pub struct PruneRule {
    pub keep: Option<usize>,
    pub older_than: Option<std::time::Duration>,
    /// Only snapshots of this database (source key).
    pub only_key: Option<String>,
    pub dry_run: bool,
}

#[derive(Debug, Default, Serialize)]
pub struct PrunePlan {
    pub deleted: Vec<ManifestSummary>,
    pub kept: usize,
    pub dry_run: bool,
    pub clones_dropped: Vec<String>,
    pub warnings: Vec<String>,
}

/// Which snapshots the rule deletes (per database, oldest first input).
pub fn plan(all: &[ManifestSummary], rule: &PruneRule) -> (Vec<ManifestSummary>, usize) {
    let mut groups: BTreeMap<&str, Vec<&ManifestSummary>> = BTreeMap::new();
    for s in all {
        if rule.only_key.as_deref().is_some_and(|k| k != s.source_key) {
            continue;
        }
        groups.entry(s.source_key.as_str()).or_default().push(s);
    }
    let mut delete = Vec::new();
    let mut kept = 0;
    for (_, mut snaps) in groups {
        snaps.sort_by(|a, b| b.order_key().cmp(&a.order_key())); // newest first
        let protected = snaps.iter().find(|s| s.verified).map(|s| s.id.clone());
        for (rank, s) in snaps.iter().enumerate() {
            let by_count = rule.keep.is_some_and(|k| rank >= k);
            let by_age = rule.older_than.is_some_and(|d| s.age_seconds as u64 > d.as_secs());
            if (by_count || by_age) && protected.as_deref() != Some(s.id.as_str()) {
                delete.push((*s).clone());
            } else {
                kept += 1;
            }
        }
    }
    delete.sort_by(|a, b| a.id.cmp(&b.id));
    (delete, kept)
}

/// Apply a rule. `url` gives credentials to drop clone databases on that server.
pub fn apply(rule: &PruneRule, url: Option<&str>) -> anyhow::Result<PrunePlan> {
    let all = super::list(None)?;
    let (delete, kept) = plan(&all, rule);
    let mut out = PrunePlan {
        deleted: Vec::new(),
        kept,
        dry_run: rule.dry_run,
        ..Default::default()
    };
    if rule.dry_run {
        out.deleted = delete;
        return Ok(out);
    }
    let server = url.and_then(|u| pg::conn_facts(u).ok()).map(|f| f.server_key);
    let clones: Vec<&ManifestSummary> = delete.iter().filter(|s| s.clone_database.is_some()).collect();
    if !clones.is_empty() {
        match (url, &server) {
            (Some(u), Some(server)) => {
                let rt = crate::engine::pg_connect::runtime()?;
                rt.block_on(async {
                    let admin = pg::connect_maintenance(u).await;
                    for s in &clones {
                        let Some(name) = &s.clone_database else { continue };
                        let same_server = s.source_key.starts_with(&format!("postgres://{server}/"));
                        match (&admin, same_server) {
                            (Ok(a), true) => match pg_clone::drop_clone(a, name).await {
                                Ok(()) => out.clones_dropped.push(name.clone()),
                                Err(e) => out.warnings.push(format!("could not drop clone {name}: {e:#}")),
                            },
                            _ => out.warnings.push(format!(
                                "clone database {name} of {} was not dropped (no connection to its server); the next snapshot there drops it",
                                s.id
                            )),
                        }
                    }
                });
            }
            _ => {
                for s in &clones {
                    out.warnings.push(format!(
                        "clone database {} of {} was not dropped (pass --url for its server); the next snapshot there drops it",
                        s.clone_database.as_deref().unwrap_or(""),
                        s.id
                    ));
                }
            }
        }
    }
    for s in delete {
        store::delete(std::path::Path::new(&s.path))?;
        out.deleted.push(s);
    }
    Ok(out)
}
