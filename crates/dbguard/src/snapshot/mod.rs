//! The snapshot store and restore: `dbguard snapshot`, `snapshots`, `restore`, `verify`,
//! `prune`, and the API that `run` and `status` use (`take`, `newest_for`, `list`,
//! `restore`, `ensure_content`).
//!
//! A snapshot is complete and verified, or absent: it is built in a temp folder, its files
//! are checksummed after writing, and `manifest.json` is written last before the folder is
//! renamed into place (see `store`). Clone snapshots record their row counts and content
//! checksums just after (see `content`): callers that need them use `ensure_content`.

pub mod checksum;
pub mod content;
pub mod guard_ddl;
pub mod manifest;
pub mod pg;
pub mod pg_catalog;
pub mod pg_clone;
pub mod pg_copy;
pub mod pg_dump;
pub mod pg_stream;
pub mod pg_types;
pub mod progress;
pub mod prune;
pub mod recorded_url;
pub mod restore;
pub mod restore_copy;
pub mod sqlite;
pub mod store;
pub mod verify;

use anyhow::{anyhow, bail};
use dbguard_core::target::Engine;
use dbguard_core::Environment;

pub use content::ensure_content;
pub use manifest::{ContentStatus, Manifest, ManifestSummary, Request, SnapshotScope, Strategy};
pub use restore::{restore, RestoreOptions};

use crate::target::ResolvedTarget;
use progress::Progress;

/// Options beyond the basic `take` signature.
#[derive(Debug, Clone)]
pub struct TakeOptions {
    pub scope: SnapshotScope,
    pub strategy: Strategy,
    pub label: Option<String>,
    pub operation: Option<String>,
    pub progress: bool,
    /// Consent to end other sessions on the source so that a clone can be made.
    pub terminate_sessions: bool,
    /// Retention applied after the snapshot (per database); None to skip.
    pub keep: Option<usize>,
    /// Return only once the row counts and content checksums are in the manifest. When
    /// false (the default, fast path), a clone snapshot returns as soon as the clone exists,
    /// with `content: pending`, and a background process records them; use
    /// `ensure_content` when you need them later.
    pub wait_content: bool,
}

/// Take a snapshot. Fails with a clear error and leaves nothing usable when anything goes
/// wrong. Applies retention (keep the last 10 per database) afterwards. Clone snapshots
/// come back with their row counts pending (`Manifest::content_pending`): call
/// `ensure_content` (or `ensure_content_for`) when you need them.
pub fn take(
    target: &ResolvedTarget,
    scope: SnapshotScope,
    strategy: Strategy,
    label: Option<String>,
    operation: Option<String>,
    progress: bool,
) -> anyhow::Result<Manifest> {
    take_with(
        target,
        &TakeOptions {
            scope,
            strategy,
            label,
            operation,
            progress,
            terminate_sessions: false,
            keep: Some(crate::config::current().snapshots.keep),
            wait_content: false,
        },
    )
}

/// The stable key of a target's database (what retention and `newest_for` group by).
pub fn source_key(target: &ResolvedTarget) -> Option<String> {
    let url = target.url.as_deref()?;
    match engine_of(target) {
        Some(Engine::Postgres) => pg::conn_facts(url)
            .ok()
            .map(|f| format!("postgres://{}/{}", f.server_key, f.database)),
        Some(Engine::Sqlite) => {
            let p = sqlite::path_of(url);
            Some(std::fs::canonicalize(&p).unwrap_or(p).display().to_string())
        }
        _ => None,
    }
}

fn engine_of(target: &ResolvedTarget) -> Option<Engine> {
    target
        .engine
        .or_else(|| target.url.as_deref().and_then(crate::target::engine_of))
}

pub fn take_with(target: &ResolvedTarget, opts: &TakeOptions) -> anyhow::Result<Manifest> {
    let url = target
        .url
        .as_deref()
        .ok_or_else(|| anyhow!("no database to snapshot: pass --url or set DATABASE_URL"))?;
    let prog = Progress::new(opts.progress);
    let removed = store::clean_debris();
    if !removed.is_empty() {
        prog.note(&format!(
            "removed {} unfinished snapshot folder(s) left by an interrupted run",
            removed.len()
        ));
    }
    let operation = opts.operation.as_deref().map(dbguard_core::redact::redact_text);
    let key = source_key(target).unwrap_or_default();
    let manifest = match engine_of(target) {
        Some(Engine::Sqlite) => {
            if !matches!(opts.scope, SnapshotScope::Database) {
                prog.note("SQLite snapshots always hold the whole file (it is small and the backup API copies pages, not tables)");
            }
            if !matches!(opts.strategy, Strategy::Auto | Strategy::SqliteBackup) {
                bail!(
                    "--strategy {} is for PostgreSQL; SQLite uses the online backup API (use --strategy auto)",
                    opts.strategy.as_str()
                );
            }
            let path = sqlite::path_of(url);
            let canonical =
                std::fs::canonicalize(&path).map_err(|e| anyhow!("SQLite database {}: {e}", path.display()))?;
            let source = manifest::Source {
                engine: "sqlite".into(),
                display: canonical.display().to_string(),
                key: key.clone(),
                database: canonical
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default(),
                server_version: Some(rusqlite::version().to_string()),
                server_version_num: None,
                environment: target.environment.as_str().into(),
            };
            let id = store::new_id();
            let b = store::Building::start(&id)?;
            let req = Request {
                building: &b,
                source,
                scope: SnapshotScope::Database,
                reason: "SQLite: online backup API (consistent while others write)".into(),
                label: opts.label.clone(),
                operation,
                progress: &prog,
                created: store::now_unix(),
                started: std::time::Instant::now(),
            };
            let m = sqlite::take(&canonical, req)?;
            manifest::commit(b, &m)?;
            m
        }
        Some(Engine::Postgres) => {
            let rt = crate::engine::pg_connect::runtime()?;
            let m = rt.block_on(take_pg(url, target, opts, operation, key.clone(), &prog))?;
            drop(rt);
            if !m.content_pending() {
                m
            } else if opts.wait_content {
                ensure_content(&m.id, url, &prog).map_err(|e| {
                    anyhow!(
                        "snapshot {} was taken (it can be restored), but its row counts and checksums could not be recorded: {e:#}",
                        m.id
                    )
                })?
            } else {
                if let Err(e) = content::spawn_finisher(&m.id, url) {
                    prog.note(&format!(
                        "{e:#}; the row counts and checksums will be computed when first needed (`dbguard verify {}`)",
                        m.id
                    ));
                }
                m
            }
        }
        Some(other) => bail!("snapshots of {other:?} databases are not supported yet (PostgreSQL and SQLite are)"),
        None => bail!(
            "cannot tell the database engine of {}",
            target.display.as_deref().unwrap_or("the target")
        ),
    };
    if let Some(keep) = opts.keep {
        let r = prune::apply(
            &prune::PruneRule {
                keep: Some(keep),
                older_than: None,
                only_key: Some(key),
                dry_run: false,
            },
            Some(url),
        );
        if let Ok(plan) = r {
            if !plan.deleted.is_empty() {
                prog.note(&format!(
                    "retention: deleted {} old snapshot(s) (keeping {keep} per database)",
                    plan.deleted.len()
                ));
            }
        }
    }
    Ok(manifest)
}

async fn take_pg(
    url: &str,
    target: &ResolvedTarget,
    opts: &TakeOptions,
    operation: Option<String>,
    key: String,
    prog: &Progress,
) -> anyhow::Result<Manifest> {
    let facts = pg::conn_facts(url)?;
    let client = crate::engine::pg_connect::connect(url, crate::engine::pg_connect::DEFAULT_CONNECT_TIMEOUT).await?;
    let info = pg::server_info(&client).await?;
    let shape = pg_clone::shape(&client).await.ok();
    let size = shape.map(|s| s.bytes).unwrap_or(0);
    drop(client);
    let source = manifest::Source {
        engine: "postgres".into(),
        display: dbguard_core::redact::redact_url(url),
        key,
        database: facts.database.clone(),
        server_version: Some(info.version.clone()),
        server_version_num: Some(info.version_num),
        environment: target.environment.as_str().into(),
    };
    let admin = pg::connect_maintenance(url).await.ok();
    let orphans = match &admin {
        Some(a) => pg_clone::drop_orphans(a, &facts.server_key).await,
        None => Vec::new(),
    };
    if !orphans.is_empty() {
        prog.note(&format!(
            "dropped {} snapshot clone(s) left without a manifest: {}",
            orphans.len(),
            orphans.join(", ")
        ));
    }

    let (strategy, reason) = match (opts.strategy, &opts.scope) {
        (Strategy::Auto, SnapshotScope::Tables(_)) | (Strategy::Auto, SnapshotScope::Schema(_)) => (
            Strategy::Copy,
            format!(
                "auto: {} only, so a binary copy of just those tables",
                opts.scope.describe()
            ),
        ),
        (Strategy::Auto, SnapshotScope::Database) => {
            let dump_ok = pg::find_tool("pg_dump", info.major()).is_ok();
            let (can_create, sessions) = match &admin {
                Some(a) => (
                    pg_clone::can_create_db(a).await.unwrap_or(false),
                    pg_clone::other_sessions(a, &facts.database)
                        .await
                        .unwrap_or((1, "unknown".into())),
                ),
                None => (false, (0, String::new())),
            };
            if target.environment == Environment::Production && dump_ok {
                (
                    Strategy::Dump,
                    "auto: production database, so a pg_dump copy stored outside the cluster".to_string(),
                )
            } else if admin.is_none() {
                (
                    Strategy::Copy,
                    "auto: cannot reach the maintenance database to clone, so a binary copy of every table".into(),
                )
            } else if !can_create {
                (
                    Strategy::Copy,
                    format!(
                        "auto: role {} may not create databases (no CREATEDB), so a binary copy of every table",
                        facts.user
                    ),
                )
            } else if sessions.0 > 0 && !opts.terminate_sessions {
                (
                    Strategy::Copy,
                    format!("auto: {} other session(s) are connected ({}), which prevents a clone, so a binary copy of every table", sessions.0, sessions.1),
                )
            } else {
                (
                    Strategy::Clone,
                    format!(
                        "auto: whole database ({}), no other sessions and CREATEDB, so an in-cluster clone (fastest)",
                        store::human_bytes(size.max(0) as u64)
                    ),
                )
            }
        }
        (Strategy::Clone, SnapshotScope::Database) => (Strategy::Clone, "requested: --strategy clone".to_string()),
        (Strategy::Clone, _) => {
            bail!("--strategy clone copies a whole database: drop --tables/--schema, or use --strategy copy")
        }
        (Strategy::SqliteBackup, _) => bail!("this is a PostgreSQL database: use --strategy auto, clone, copy or dump"),
        (s, _) => (s, format!("requested: --strategy {}", s.as_str())),
    };
    drop(admin);
    let id = store::new_id();
    let b = store::Building::start(&id)?;
    let request = |scope: SnapshotScope, reason: String| Request {
        building: &b,
        source: source.clone(),
        scope,
        reason,
        label: opts.label.clone(),
        operation: operation.clone(),
        progress: prog,
        created: store::now_unix(),
        started: std::time::Instant::now(),
    };
    let m = match strategy {
        Strategy::Clone => {
            match pg_clone::take(
                url,
                request(SnapshotScope::Database, reason),
                opts.terminate_sessions,
                shape,
            )
            .await
            {
                Err(e) if opts.strategy == Strategy::Auto => {
                    prog.note(&format!(
                        "clone failed ({e:#}); falling back to a binary copy of every table"
                    ));
                    let reason = format!("auto: clone failed ({e:#}), so a binary copy of every table");
                    pg_copy::take(url, request(SnapshotScope::Database, reason)).await?
                }
                r => r?,
            }
        }
        Strategy::Copy => pg_copy::take(url, request(opts.scope.clone(), reason)).await?,
        Strategy::Dump => pg_dump::take(url, request(opts.scope.clone(), reason)).await?,
        _ => bail!("internal error: unexpected strategy"),
    };
    let clone = m.clone_database.clone();
    if let Err(e) = manifest::commit(b, &m) {
        if let Some(c) = clone {
            if let Ok(a) = pg::connect_maintenance(url).await {
                let _ = pg_clone::drop_database(&a, &c).await;
            }
        }
        return Err(e);
    }
    Ok(m)
}

/// `m` with its row counts and content checksums, computing them from the clone (with the
/// target's credentials) when a background finisher has not recorded them yet.
pub fn ensure_content_for(m: &Manifest, target: &ResolvedTarget) -> anyhow::Result<Manifest> {
    if !m.content_pending() {
        return Ok(m.clone());
    }
    let url = target
        .url
        .as_deref()
        .ok_or_else(|| anyhow!("no connection to the server of snapshot {}", m.id))?;
    ensure_content(&m.id, url, &Progress::new(false))
}

/// The newest complete snapshot of the target's database (for `status`).
pub fn newest_for(target: &ResolvedTarget) -> Option<ManifestSummary> {
    let key = source_key(target)?;
    list(Some(&key)).ok()?.into_iter().last()
}

/// Complete snapshots, oldest first; only those of `source_key` when given.
pub fn list(source_key: Option<&str>) -> anyhow::Result<Vec<ManifestSummary>> {
    let (all, _) = manifest::load_all()?;
    let now = store::now_unix();
    Ok(all
        .iter()
        .filter(|(_, m)| source_key.is_none_or(|k| m.source.key == k))
        .map(|(dir, m)| m.summary(dir, now))
        .collect())
}
