//! The snapshot manifest (`manifest.json`), written last into a snapshot folder: what was
//! saved, from where, how, and the checksums that let `verify` and `restore` trust it.
//! Also the catalog of snapshots, which is the manifests themselves (`load_all`, `find`),
//! read and written through the store below.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

pub use super::store::FileEntry;
use super::store::{self, Building, MANIFEST};

/// Bumped when the layout of snapshot folders changes incompatibly: version 2 added pack
/// files (`TableEntry::packed`), which a version-1 reader would restore as empty tables.
/// Manifests of a newer format are refused rather than half understood.
pub const FORMAT_VERSION: u32 = 2;
/// The format written when nothing needs version 2 (readable by older versions too).
pub const FORMAT_VERSION_PLAIN: u32 = 1;

/// Content checksum algorithms (see `checksum.rs`): PostgreSQL rows in binary COPY form,
/// SQLite rows as typed values.
pub const PG_ALGORITHM: &str = "b3rowsum128-pgcopybinary-v1";
pub const SQLITE_ALGORITHM: &str = "b3rowsum128-sqlite-v1";

/// Where a failed background content pass (`content.rs`) leaves its error.
pub const CONTENT_ERROR_FILE: &str = "content.error";

/// The error the last background content pass recorded for the snapshot in `dir`, if any.
pub fn recorded_content_error(dir: &Path) -> Option<String> {
    std::fs::read_to_string(dir.join(CONTENT_ERROR_FILE))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// How a snapshot was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    Auto,
    /// `CREATE DATABASE dbguard_snap_<id> TEMPLATE <db>` inside the same cluster.
    Clone,
    /// Binary COPY of tables, zstd-compressed, with their DDL.
    Copy,
    /// `pg_dump -Fd`.
    Dump,
    /// SQLite online backup API.
    SqliteBackup,
}

impl Strategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Auto => "auto",
            Strategy::Clone => "clone",
            Strategy::Copy => "copy",
            Strategy::Dump => "dump",
            Strategy::SqliteBackup => "sqlite-backup",
        }
    }

    pub fn parse(s: &str) -> anyhow::Result<Strategy> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Strategy::Auto),
            "clone" => Ok(Strategy::Clone),
            "copy" => Ok(Strategy::Copy),
            "dump" => Ok(Strategy::Dump),
            "sqlite" | "sqlite-backup" | "backup" => Ok(Strategy::SqliteBackup),
            other => anyhow::bail!("unknown strategy {other:?}: use auto, clone, copy or dump"),
        }
    }
}

/// Whether the per-table row counts and content checksums are in the manifest yet.
///
/// A clone is frozen (marked and unconnectable), so its counts and checksums are the same
/// whenever they are computed: a clone snapshot is usable as soon as the clone exists, and
/// its content is recorded afterwards by a background `dbguard snapshot-finish`, or on
/// demand by whoever needs it first (`snapshot::ensure_content`). Other strategies read
/// every row anyway and are always complete.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentStatus {
    /// `tables` holds every table with its row count and content checksum.
    #[default]
    Complete,
    /// `tables` is empty until the counts and checksums are computed from the clone.
    Pending,
}

/// What part of the database a snapshot holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "names", rename_all = "snake_case")]
pub enum SnapshotScope {
    Database,
    Schema(Vec<String>),
    Tables(Vec<String>),
}

impl SnapshotScope {
    pub fn describe(&self) -> String {
        match self {
            SnapshotScope::Database => "whole database".into(),
            SnapshotScope::Schema(s) => format!("schema {}", s.join(", ")),
            SnapshotScope::Tables(t) => format!("tables {}", t.join(", ")),
        }
    }
}

/// Where the snapshot came from. Never holds a password.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Source {
    /// "postgres" or "sqlite".
    pub engine: String,
    /// Redacted URL (PostgreSQL) or absolute file path (SQLite).
    pub display: String,
    /// Identifies the database across snapshots (retention groups by it): for PostgreSQL
    /// `host:port/db`, for SQLite the canonical path.
    pub key: String,
    /// Database name (PostgreSQL) or file name (SQLite).
    pub database: String,
    pub server_version: Option<String>,
    /// Major version number, for restore compatibility checks.
    pub server_version_num: Option<u32>,
    pub environment: String,
}

/// One table as it was at snapshot time.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableEntry {
    pub schema: String,
    pub name: String,
    pub rows: u64,
    /// Order-independent content checksum, see `checksum.rs`.
    pub content_checksum: String,
    /// Data files of this table (copy strategy), relative to the snapshot folder.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// A small table's data: one frame of a shared pack file (copy strategy, format 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packed: Option<PackedFrame>,
    /// Sequences owned by the table's columns, with their values at snapshot time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sequences: Vec<SequenceValue>,
}

impl TableEntry {
    pub fn qualified(&self) -> String {
        if self.schema.is_empty() {
            self.name.clone()
        } else {
            format!("{}.{}", self.schema, self.name)
        }
    }
}

/// Where a small table's rows are: one zstd frame (a complete binary COPY stream) at
/// `offset` in pack file `file`, `bytes` long.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackedFrame {
    pub file: String,
    pub offset: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SequenceValue {
    pub schema: String,
    pub name: String,
    pub last_value: i64,
    pub is_called: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub id: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub created_unix: i64,
    /// Nanoseconds since the epoch when the manifest was made: orders snapshots taken in
    /// the same second (a pre-restore snapshot and the one it restores, say), which the
    /// id alone (seconds + random) cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_ns: Option<u64>,
    pub source: Source,
    pub strategy: Strategy,
    /// Why this strategy (for auto: the rule that decided).
    pub strategy_reason: String,
    pub scope: SnapshotScope,
    /// Manifests written before this field existed are complete.
    #[serde(default)]
    pub content: ContentStatus,
    pub tables: Vec<TableEntry>,
    pub files: Vec<FileEntry>,
    /// Clone strategy: the snapshot database in the source's cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clone_database: Option<String>,
    /// Copy strategy: how the DDL was obtained ("pg_dump 15.4" or "catalog").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ddl_source: Option<String>,
    /// Name of the checksum algorithm used for `content_checksum`.
    pub content_checksum_algorithm: String,
    pub bytes: u64,
    pub duration_ms: u64,
    /// Clone snapshots: how long computing the row counts and checksums took, once done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_duration_ms: Option<u64>,
    pub label: Option<String>,
    /// The command that caused the snapshot, redacted.
    pub operation: Option<String>,
    /// Files were checksummed after being written and before the folder was renamed into place.
    pub verified: bool,
    pub dbguard_version: String,
}

/// What `snapshots --json`, `snapshot --json` and `status` show about a snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestSummary {
    pub id: String,
    pub created_at: String,
    pub created_unix: i64,
    #[serde(skip)]
    pub created_ns: Option<u64>,
    pub age_seconds: i64,
    pub engine: String,
    pub database: String,
    pub source: String,
    pub source_key: String,
    pub environment: String,
    pub strategy: Strategy,
    pub strategy_reason: String,
    pub scope: SnapshotScope,
    /// "pending" while a clone's row counts and checksums are being computed (then
    /// `tables` is empty and `rows` is 0), "complete" after.
    pub content_status: ContentStatus,
    pub tables: Vec<String>,
    pub table_count: usize,
    pub rows: u64,
    pub bytes: u64,
    pub duration_ms: u64,
    pub verified: bool,
    pub label: Option<String>,
    pub operation: Option<String>,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clone_database: Option<String>,
    /// While pending: why the last background pass failed, if it did (it is retried by
    /// `verify`, `restore` and `dbguard run`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_error: Option<String>,
}

/// What a strategy is asked to snapshot, and what every strategy records the same way in
/// the manifest (scope, why, label, triggering operation, timing).
pub struct Request<'a> {
    pub building: &'a super::store::Building,
    pub source: Source,
    pub scope: SnapshotScope,
    pub reason: String,
    pub label: Option<String>,
    pub operation: Option<String>,
    pub progress: &'a super::progress::Progress,
    pub created: i64,
    pub started: std::time::Instant,
}

impl Request<'_> {
    /// The manifest fields common to every strategy; each adds its own with
    /// struct-update syntax.
    pub fn manifest(self, strategy: Strategy) -> Manifest {
        Manifest {
            scope: self.scope,
            label: self.label,
            operation: self.operation,
            ..Manifest::base(
                &self.building.id,
                self.created,
                self.started,
                self.source,
                strategy,
                self.reason,
            )
        }
    }
}

impl ManifestSummary {
    /// Same order as `Manifest::order_key`.
    pub fn order_key(&self) -> (i64, u64, &str) {
        (self.created_unix, self.created_ns.unwrap_or(0), &self.id)
    }
}

impl Manifest {
    /// A verified, complete manifest holding what every strategy records the same way
    /// (identity, source, timing, version, checksum algorithm); each strategy sets the
    /// rest with struct-update syntax. `duration_ms` is measured from `started` now.
    pub fn base(
        id: &str,
        created: i64,
        started: std::time::Instant,
        source: Source,
        strategy: Strategy,
        strategy_reason: String,
    ) -> Manifest {
        let algorithm = match strategy {
            Strategy::SqliteBackup => SQLITE_ALGORITHM,
            _ => PG_ALGORITHM,
        };
        Manifest {
            format: FORMAT_VERSION_PLAIN,
            id: id.to_string(),
            created_at: super::store::rfc3339(created),
            created_unix: created,
            created_ns: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()
                .map(|d| d.as_nanos() as u64),
            source,
            strategy,
            strategy_reason,
            scope: SnapshotScope::Database,
            content: ContentStatus::Complete,
            tables: Vec::new(),
            files: Vec::new(),
            clone_database: None,
            ddl_source: None,
            content_checksum_algorithm: algorithm.into(),
            bytes: 0,
            duration_ms: started.elapsed().as_millis() as u64,
            content_duration_ms: None,
            label: None,
            operation: None,
            verified: true,
            dbguard_version: env!("CARGO_PKG_VERSION").into(),
        }
    }

    pub fn content_pending(&self) -> bool {
        self.content == ContentStatus::Pending
    }

    /// Creation order: the second, then the nanoseconds where recorded, then the id.
    pub fn order_key(&self) -> (i64, u64, &str) {
        (self.created_unix, self.created_ns.unwrap_or(0), &self.id)
    }

    pub fn total_rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }

    pub fn summary(&self, dir: &std::path::Path, now_unix: i64) -> ManifestSummary {
        ManifestSummary {
            id: self.id.clone(),
            created_at: self.created_at.clone(),
            created_unix: self.created_unix,
            created_ns: self.created_ns,
            age_seconds: (now_unix - self.created_unix).max(0),
            engine: self.source.engine.clone(),
            database: self.source.database.clone(),
            source: self.source.display.clone(),
            source_key: self.source.key.clone(),
            environment: self.source.environment.clone(),
            strategy: self.strategy,
            strategy_reason: self.strategy_reason.clone(),
            scope: self.scope.clone(),
            content_status: self.content,
            tables: self.tables.iter().map(|t| t.qualified()).collect(),
            table_count: self.tables.len(),
            rows: self.total_rows(),
            bytes: self.bytes,
            duration_ms: self.duration_ms,
            verified: self.verified,
            label: self.label.clone(),
            operation: self.operation.clone(),
            path: dir.display().to_string(),
            clone_database: self.clone_database.clone(),
            content_error: if self.content_pending() {
                recorded_content_error(dir)
            } else {
                None
            },
        }
    }
}

/// Write `m` into the building folder and move the folder into place (see `Building::commit`).
pub fn commit(b: Building, m: &Manifest) -> anyhow::Result<PathBuf> {
    let json = serde_json::to_vec_pretty(m)?;
    b.commit(&m.files, &json)
}

/// Replace the manifest of a complete snapshot atomically (see `store::replace_file`).
pub fn rewrite(dir: &Path, m: &Manifest) -> anyhow::Result<()> {
    let json = serde_json::to_vec_pretty(m)?;
    store::replace_file(dir, MANIFEST, &json)
        .map_err(|_| anyhow::anyhow!("snapshot {} no longer exists (it was pruned or deleted)", m.id))
}

pub fn read(dir: &Path) -> anyhow::Result<Manifest> {
    let text = std::fs::read(dir.join(MANIFEST)).with_context(|| format!("no readable {MANIFEST}"))?;
    let m: Manifest = serde_json::from_slice(&text).with_context(|| format!("{MANIFEST} is not valid"))?;
    if m.format > FORMAT_VERSION {
        bail!(
            "{MANIFEST} has format {}, newer than this dbguard understands ({FORMAT_VERSION}): upgrade dbguard",
            m.format
        );
    }
    Ok(m)
}

/// Complete snapshots (folder, manifest) and the folders whose manifest is unreadable.
pub type Loaded = (Vec<(PathBuf, Manifest)>, Vec<String>);

/// All complete snapshots, oldest first. Folders whose manifest cannot be read are skipped
/// (and reported in the second list).
pub fn load_all() -> anyhow::Result<Loaded> {
    let mut out = Vec::new();
    let mut bad = Vec::new();
    for (name, dir) in store::snapshot_folders()? {
        match read(&dir) {
            Ok(m) => out.push((dir, m)),
            Err(e) => bad.push(format!("{name}: {e:#}")),
        }
    }
    out.sort_by(|a, b| a.1.order_key().cmp(&b.1.order_key()));
    Ok((out, bad))
}

/// Find a snapshot by id (or a unique prefix); the error lists the nearest ids.
pub fn find(id: &str) -> anyhow::Result<(PathBuf, Manifest)> {
    let (all, _) = load_all()?;
    if let Some(hit) = all.iter().find(|(_, m)| m.id == id) {
        return Ok(hit.clone());
    }
    let prefixed: Vec<_> = all
        .iter()
        .filter(|(_, m)| !id.is_empty() && m.id.starts_with(id))
        .collect();
    if prefixed.len() == 1 {
        return Ok(prefixed[0].clone());
    }
    let common_prefix = |a: &str| a.bytes().zip(id.bytes()).take_while(|(x, y)| x == y).count();
    let mut near: Vec<&String> = all.iter().map(|(_, m)| &m.id).collect();
    near.sort_by_key(|cand| std::cmp::Reverse(common_prefix(cand)));
    let near: Vec<String> = near.into_iter().take(5).cloned().collect();
    if all.is_empty() {
        bail!(
            "snapshot {id} not found: there are no snapshots in {} yet. Take one with `dbguard snapshot`",
            store::snapshots_dir()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        );
    }
    if prefixed.len() > 1 {
        bail!(
            "snapshot id {id} is ambiguous: it starts {} snapshots ({}). Give more of the id",
            prefixed.len(),
            near.join(", ")
        );
    }
    bail!(
        "snapshot {id} not found. Nearest ids: {}. `dbguard snapshots` lists them all",
        near.join(", ")
    )
}
