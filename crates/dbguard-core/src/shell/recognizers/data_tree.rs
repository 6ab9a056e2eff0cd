//! Which databases a directory tree holds, for commands that delete or replace whole
//! trees (`rm -r DIR`, `find DIR -delete`, `rsync --delete SRC DIR`, `git clean -x`).
//!
//! The tree is listed through [`Lookup::walk_dir`], bounded in entries and depth so the
//! hook stays fast; directories that never hold a database (`node_modules`, `.git`) are
//! not descended into. What counts as a database:
//! - a PostgreSQL data directory: a `PG_VERSION` file;
//! - a MySQL/MariaDB data directory: `ibdata1`, `mysql.ibd` or `mysql/user.frm`;
//! - a MongoDB data directory (`WiredTiger`), a Redis dump (`dump.rdb`, `appendonly.aof`);
//! - an SQLite file, by its header (`SQLite format 3\0`), read only for files whose size
//!   could be an SQLite file (a whole number of 512-byte pages) or whose extension says so.
//!
//! A walk that hits its bound has not seen everything: the caller decides (the
//! recognizers report it as `unknown`, except for trees that are regenerated output by
//! convention, see [`regenerable`]).

use crate::lookup::{Lookup, WalkLimits};
use crate::shell::words::basename;
use crate::target::{Engine, Resource, TargetHint};

/// Trees that never hold a database: listed, not descended into.
pub const SKIP: &[&str] = &[
    "node_modules",
    ".git",
    ".hg",
    ".svn",
    "__pycache__",
    ".venv",
    ".next",
    ".nuxt",
    ".turbo",
    ".gradle",
    ".mypy_cache",
    ".pytest_cache",
    ".tox",
    "bower_components",
];

/// Bounds of one walk: about a millisecond per thousand entries on a warm cache.
pub const LIMITS: WalkLimits = WalkLimits {
    max_entries: 10_000,
    max_depth: 16,
    skip: SKIP,
};

/// Most file headers read in one walk.
const MAX_HEADS: usize = 512;
const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";

/// What kind of database was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
    Mysql,
    Mongo,
    Redis,
}

impl DbKind {
    pub fn describe(self) -> &'static str {
        match self {
            DbKind::Sqlite => "an SQLite database file (by its header)",
            DbKind::Postgres => "a PostgreSQL data directory (PG_VERSION)",
            DbKind::Mysql => "a MySQL/MariaDB data directory",
            DbKind::Mongo => "a MongoDB data directory (WiredTiger)",
            DbKind::Redis => "a Redis data file",
        }
    }

    fn engine(self) -> Engine {
        match self {
            DbKind::Sqlite => Engine::Sqlite,
            DbKind::Postgres => Engine::Postgres,
            DbKind::Mysql => Engine::Mysql,
            DbKind::Mongo => Engine::Mongo,
            DbKind::Redis => Engine::Redis,
        }
    }
}

/// One database in the tree: the file, or the data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbFound {
    pub path: String,
    pub kind: DbKind,
}

/// What a walk found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeScan {
    pub found: Vec<DbFound>,
    /// The tree holds more than was looked at.
    pub truncated: bool,
}

/// Directory names whose trees are regenerated build or dependency output by convention:
/// `rm -rf node_modules` or `rm -rf target` is not walked at all.
pub fn regenerable(path: &str) -> bool {
    matches!(
        basename(path.trim_end_matches('/')),
        "node_modules"
            | "target"
            | "dist"
            | "build"
            | ".next"
            | ".nuxt"
            | ".turbo"
            | "__pycache__"
            | ".pytest_cache"
            | ".mypy_cache"
            | "coverage"
            | ".parcel-cache"
            | ".svelte-kit"
            | "bower_components"
    )
}

/// The databases under `path`; `None` when it is not a directory that can be listed.
pub fn scan(path: &str, lookup: &dyn Lookup) -> Option<TreeScan> {
    let walk = lookup.walk_dir(path, &LIMITS)?;
    let mut out = TreeScan {
        found: Vec::new(),
        truncated: walk.truncated,
    };
    let parent = |p: &str| p.rsplit_once('/').map_or(".", |(d, _)| d).to_string();
    // Data directories first: files inside them are part of that database.
    for e in walk.entries.iter().filter(|e| !e.dir) {
        let name = basename(&e.path);
        let kind_dir = match name {
            "PG_VERSION" => Some((DbKind::Postgres, parent(&e.path))),
            "ibdata1" | "mysql.ibd" => Some((DbKind::Mysql, parent(&e.path))),
            "user.frm" if parent(&e.path).ends_with("mysql") => Some((DbKind::Mysql, parent(&parent(&e.path)))),
            "WiredTiger" => Some((DbKind::Mongo, parent(&e.path))),
            "dump.rdb" | "appendonly.aof" => Some((DbKind::Redis, e.path.clone())),
            _ => None,
        };
        if let Some((kind, dir)) = kind_dir {
            if !out
                .found
                .iter()
                .any(|f| f.path == dir || dir.starts_with(&format!("{}/", f.path)))
            {
                out.found.push(DbFound { path: dir, kind });
            }
        }
    }
    let inside_found = |p: &str, found: &[DbFound]| {
        found
            .iter()
            .any(|f| f.kind != DbKind::Sqlite && p.starts_with(&format!("{}/", f.path)))
    };
    let mut heads = 0;
    for e in walk.entries.iter().filter(|e| !e.dir && e.size > 0) {
        let by_ext = super::files::has_sqlite_extension(&e.path);
        let page_sized = e.size >= 512 && e.size % 512 == 0;
        if !(by_ext || page_sized) || inside_found(&e.path, &out.found) {
            continue;
        }
        if heads >= MAX_HEADS {
            out.truncated = true;
            break;
        }
        heads += 1;
        if lookup.file_head(&e.path).is_some_and(|h| h.starts_with(SQLITE_MAGIC)) {
            out.found.push(DbFound {
                path: e.path.clone(),
                kind: DbKind::Sqlite,
            });
        }
    }
    // SQLite files first: they are the ones a snapshot can cover.
    out.found.sort_by_key(|f| f.kind != DbKind::Sqlite);
    Some(out)
}

/// The target a tree deletion names: its first SQLite file (snapshotted before the
/// command runs), else the first data directory (which dbguard cannot snapshot).
pub fn hint(found: &[DbFound]) -> Option<TargetHint> {
    let first = found.first()?;
    if first.kind == DbKind::Sqlite {
        return Some(TargetHint {
            file: Some(first.path.clone()),
            engine: Some(Engine::Sqlite),
            ..TargetHint::default()
        });
    }
    Some(data_dir_hint(&first.path, Some(first.kind)))
}

/// A data directory on this machine, as a target: dbguard does not snapshot the files of
/// a server, so it names the server's own way to keep a copy.
pub fn data_dir_hint(path: &str, kind: Option<DbKind>) -> TargetHint {
    let (provider, safeguard) = match kind {
        Some(DbKind::Postgres) => (
            "PostgreSQL",
            "dump the databases first (`pg_dumpall > backup.sql` while the server runs), or stop the server and copy the directory",
        ),
        Some(DbKind::Mysql) => (
            "MySQL/MariaDB",
            "dump the databases first (`mysqldump --all-databases > backup.sql`), or stop the server and copy the directory",
        ),
        Some(DbKind::Mongo) => ("MongoDB", "dump the databases first (`mongodump`), or stop the server and copy the directory"),
        Some(DbKind::Redis) => ("Redis", "copy the file elsewhere first (or `redis-cli BGSAVE` and copy the dump)"),
        _ => (
            "database",
            "stop the server and copy the directory elsewhere first, or dump its databases with the server's own tool",
        ),
    };
    TargetHint {
        engine: kind.map(DbKind::engine),
        resource: Some(Resource {
            provider: provider.to_string(),
            kind: "data directory".into(),
            name: Some(path.to_string()),
            context: Vec::new(),
            local: true,
            safeguard: safeguard.into(),
        }),
        ..TargetHint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::sqlite_bytes;
    use super::*;
    use crate::lookup::MapLookup;

    #[test]
    fn finds_databases_in_a_tree() {
        let mut l = MapLookup::default();
        l.files.insert("app/data/store".into(), sqlite_bytes());
        l.files.insert("app/data/notes.txt".into(), b"hello".to_vec());
        l.files.insert("app/docker/pg/PG_VERSION".into(), b"16\n".to_vec());
        l.files.insert("app/docker/pg/base/1/1259".into(), vec![0; 8192]);
        l.files.insert("app/node_modules/x/y.db".into(), sqlite_bytes());
        let s = scan("app", &l).unwrap_or_default();
        let paths: Vec<&str> = s.found.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["app/data/store", "app/docker/pg"]);
        assert!(!s.truncated);
        assert_eq!(hint(&s.found).and_then(|h| h.file).as_deref(), Some("app/data/store"));
        assert!(scan("missing", &l).is_none());
        let s = scan("app/data", &l).unwrap_or_default();
        assert_eq!(s.found.len(), 1);
    }

    #[test]
    fn a_file_named_db_is_not_enough_inside_a_tree() {
        let mut l = MapLookup::default();
        l.files.insert("photos/Thumbs.db".into(), vec![7; 1024]);
        assert!(scan("photos", &l).unwrap_or_default().found.is_empty());
        assert!(regenerable("./node_modules/") && regenerable("target") && !regenerable("data"));
    }
}
