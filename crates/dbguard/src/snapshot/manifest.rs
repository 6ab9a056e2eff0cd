//! The snapshot manifest (`manifest.json`), written last into a snapshot folder: what was
//! saved, from where, how, and the checksums that let `verify` and `restore` trust it.

use serde::{Deserialize, Serialize};

/// Bumped when the layout of snapshot folders changes incompatibly.
pub const FORMAT_VERSION: u32 = 1;

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

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SequenceValue {
    pub schema: String,
    pub name: String,
    pub last_value: i64,
    pub is_called: bool,
}

/// One file in the snapshot folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub bytes: u64,
    pub blake3: String,
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
            Strategy::SqliteBackup => super::checksum::SQLITE_ALGORITHM,
            _ => super::checksum::PG_ALGORITHM,
        };
        Manifest {
            format: FORMAT_VERSION,
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
                super::content::recorded_error(dir)
            } else {
                None
            },
        }
    }
}
