//! SQLite behind the [`Database`] interface, through rusqlite.
//!
//! The file is opened read-only through a `file:...?mode=ro` URI, so a missing file is
//! an error rather than a new empty database, and nothing can be written. SQLite keeps
//! no row estimates, so counts are exact `count(*)`s, each bounded by a deadline
//! enforced with a progress handler (a huge table leaves its count unknown instead of
//! stalling `status`).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use dbguard_core::target::Engine;
use rusqlite::{Connection, OpenFlags};

use super::{humanize_millis, Database, MigrationInfo, SearchPath, ServerInfo, TableInfo, MIGRATION_SPECS};

/// Budget per table for counts when no `--exact` timeout is given.
const DEFAULT_COUNT_BUDGET: Duration = Duration::from_secs(2);

pub struct SqliteDb {
    conn: Connection,
    path: PathBuf,
}

/// `"name"` with embedded quotes doubled.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Percent-encode the characters that would end or escape the path in a `file:` URI.
fn uri_path(p: &Path) -> String {
    let s = p.to_string_lossy();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3F"),
            '#' => out.push_str("%23"),
            _ => out.push(c),
        }
    }
    out
}

impl SqliteDb {
    /// Open an existing SQLite file read-only. Missing files and files that are not
    /// SQLite databases are clear errors.
    pub fn open(path: &Path, busy_timeout: Duration) -> anyhow::Result<SqliteDb> {
        let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => anyhow!("SQLite database file not found: {}", path.display()),
            _ => anyhow!("cannot open SQLite database {}: {e}", path.display()),
        })?;
        if !meta.is_file() {
            bail!("{} is not a file", path.display());
        }
        if meta.len() > 0 {
            let mut header = [0u8; 16];
            let mut f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
            let n = f
                .read(&mut header)
                .with_context(|| format!("cannot read {}", path.display()))?;
            if n < 16 || &header != b"SQLite format 3\0" {
                bail!(
                    "{} is not an SQLite database (no `SQLite format 3` header)",
                    path.display()
                );
            }
        }
        let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let uri = format!("file:{}?mode=ro", uri_path(&abs));
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&uri, flags)
            .map_err(|e| anyhow!("cannot open SQLite database {}: {e}", path.display()))?;
        conn.busy_timeout(busy_timeout).map_err(|e| anyhow!("{e}"))?;
        // Touch the schema now so a corrupt file fails here, with the file's name.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0))
            .map_err(|e| anyhow!("cannot read SQLite database {}: {e}", path.display()))?;
        Ok(SqliteDb { conn, path: abs })
    }

    #[allow(dead_code)]
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    fn table_names(&self) -> anyhow::Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")?;
        let names = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(names)
    }

    /// `count(*)`, abandoned (None) when it runs past `budget`.
    fn count(&self, table: &str, budget: Duration) -> Option<i64> {
        let deadline = Instant::now() + budget;
        self.conn
            .progress_handler(10_000, Some(move || Instant::now() > deadline));
        let r = self
            .conn
            .query_row(&format!("SELECT count(*) FROM {}", quote(table)), [], |r| {
                r.get::<_, i64>(0)
            });
        self.conn.progress_handler(0, None::<fn() -> bool>);
        r.ok()
    }

    fn bytes(&self, table: &str) -> Option<i64> {
        // dbstat is compiled into the bundled SQLite; counts the table and its indexes.
        self.conn
            .query_row(
                "SELECT SUM(pgsize) FROM dbstat WHERE name = ?1 OR name IN (SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1)",
                [table],
                |r| r.get::<_, Option<i64>>(0),
            )
            .ok()
            .flatten()
    }

    /// The table's name as stored (case-insensitive lookup, `main.` prefix allowed).
    fn stored_name(&self, table: &str) -> Option<String> {
        let t = table
            .trim()
            .trim_start_matches("main.")
            .trim_matches(|c| c == '"' || c == '`' || c == '[' || c == ']');
        self.conn
            .query_row(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
                [t],
                |r| r.get(0),
            )
            .ok()
    }
}

impl Database for SqliteDb {
    fn engine(&self) -> Engine {
        Engine::Sqlite
    }

    fn server_info(&mut self) -> anyhow::Result<ServerInfo> {
        let version: String = self.conn.query_row("SELECT sqlite_version()", [], |r| r.get(0))?;
        Ok(ServerInfo {
            engine: "sqlite".into(),
            version,
            database: self.path.display().to_string(),
            user: None,
        })
    }

    fn search_path(&mut self) -> anyhow::Result<Option<SearchPath>> {
        Ok(None)
    }

    fn tables(&mut self, exact: Option<Duration>) -> anyhow::Result<Vec<TableInfo>> {
        let budget = exact.unwrap_or(DEFAULT_COUNT_BUDGET);
        let mut out = Vec::new();
        for name in self.table_names()? {
            let rows = self.count(&name, budget);
            out.push(TableInfo {
                schema: "main".into(),
                rows_exact: rows.is_some(),
                rows,
                bytes: self.bytes(&name),
                in_search_path: true,
                name,
            });
        }
        Ok(out)
    }

    fn migrations(&mut self) -> anyhow::Result<Vec<MigrationInfo>> {
        let names = self.table_names()?;
        let mut out = Vec::new();
        let mut seen = Vec::new();
        for spec in MIGRATION_SPECS {
            if seen.contains(&spec.table) || !names.iter().any(|n| n == spec.table) {
                continue;
            }
            let t = quote(spec.table);
            let last = self.conn.query_row(&spec.last.replace("{t}", &t), [], |r| {
                Ok((r.get::<_, Option<String>>(0)?, r.get::<_, Option<String>>(1)?))
            });
            let (last, last_at, error) = match last {
                Ok((l, at)) => (l, humanize_millis(spec.tool, at), None),
                Err(rusqlite::Error::QueryReturnedNoRows) => (None, None, None),
                // `migrations` with other columns: try the next tool's spec for the same table.
                Err(_) if spec.table == "migrations" => continue,
                Err(e) => (None, None, Some(e.to_string())),
            };
            seen.push(spec.table);
            let applied = self
                .conn
                .query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get::<_, i64>(0))
                .ok();
            let failed = spec.failed.and_then(|f| {
                self.conn
                    .query_row(&f.replace("{t}", &t), [], |r| r.get::<_, i64>(0))
                    .ok()
            });
            out.push(MigrationInfo {
                tool: spec.tool.into(),
                table: format!("main.{}", spec.table),
                applied,
                last,
                last_at,
                failed,
                error,
            });
        }
        Ok(out)
    }

    fn estimate_rows(&mut self, table: &str) -> Option<i64> {
        // No planner statistics worth the name: a quickly bounded exact count instead.
        let name = self.stored_name(table)?;
        self.count(&name, DEFAULT_COUNT_BUDGET)
    }

    fn explain_rows(&mut self, _sql: &str) -> Option<i64> {
        // SQLite's EXPLAIN QUERY PLAN carries no row estimates.
        None
    }

    fn exact_rows(&mut self, table: &str, timeout: Duration) -> Option<i64> {
        let name = self.stored_name(table)?;
        self.count(&name, timeout)
    }

    fn snapshot_clone(&mut self) -> Option<String> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_real_file_and_refuses_missing_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app #1?.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users(name) VALUES ('a'),('b'),('c');
                 CREATE TABLE _prisma_migrations(id TEXT, migration_name TEXT, started_at TEXT, finished_at TEXT, rolled_back_at TEXT);
                 INSERT INTO _prisma_migrations VALUES ('1','20240101_init','2024-01-01','2024-01-01 10:00:00',NULL);
                 CREATE TABLE migrations(id INTEGER PRIMARY KEY, name TEXT, timestamp INTEGER);
                 INSERT INTO migrations(name, timestamp) VALUES ('Init1700000000000', 1700000000000);",
            )
            .unwrap();
        }
        let mut db = SqliteDb::open(&path, Duration::from_secs(1)).unwrap();
        let tables = db.tables(None).unwrap();
        let users = tables.iter().find(|t| t.name == "users").unwrap();
        assert_eq!(users.rows, Some(3));
        assert!(users.bytes.unwrap_or(0) > 0);
        assert_eq!(db.exact_rows("USERS", Duration::from_secs(1)), Some(3));
        assert_eq!(db.estimate_rows("main.users"), Some(3));
        assert_eq!(db.exact_rows("nope", Duration::from_secs(1)), None);
        let m = db.migrations().unwrap();
        assert_eq!(m.len(), 2, "{m:?}");
        assert_eq!(m[0].last.as_deref(), Some("20240101_init"));
        assert_eq!(m[0].failed, Some(0));
        assert_eq!(m[1].tool, "typeorm");
        // Read-only: writes fail.
        assert!(db.connection().execute("DELETE FROM users", []).is_err());

        let missing = dir.path().join("missing.db");
        let e = SqliteDb::open(&missing, Duration::from_secs(1))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("not found"), "{e}");
        assert!(!missing.exists(), "opening must not create the file");
        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, "hello, this is not a database at all").unwrap();
        assert!(SqliteDb::open(&junk, Duration::from_secs(1))
            .err()
            .unwrap()
            .to_string()
            .contains("not an SQLite database"));
    }
}
