//! The one window the pure core has on the outside world. The edge implements it
//! with real files; tests implement it with maps. Every method may answer `None`
//! ("not known"), and the analyzers must then assume the worst where it matters
//! (a `psql -f` file that cannot be read is Unknown, not safe).

use std::collections::BTreeMap;

pub trait Lookup {
    /// Text of a file (relative paths are relative to the command's working directory).
    /// Used for `psql -f FILE`, `sqlite3 db < FILE`, `prisma db execute --file`.
    fn read_file(&self, path: &str) -> Option<String>;

    /// The first bytes of a file, to recognize an SQLite database (`SQLite format 3\0`)
    /// or a PostgreSQL/MySQL data directory marker. `None` when it does not exist.
    fn file_head(&self, path: &str) -> Option<Vec<u8>>;

    /// Whether `path` is a directory that holds a database cluster (PG_VERSION,
    /// ibdata1, mysql/...). `None` when unknown.
    fn is_data_dir(&self, path: &str) -> Option<bool>;

    /// The `scripts` of package.json in the working directory, to expand `npm run X`.
    fn package_script(&self, name: &str) -> Option<String>;

    /// Whether the Prisma project in the working directory configures a shadow database
    /// (`shadowDatabaseUrl`) that is its main database, with `env` (the command's inline
    /// assignments) in force. `None`: not configured, or not known.
    fn prisma_shadow_is_main(&self, env: &[(String, String)]) -> Option<bool> {
        let _ = env;
        None
    }
}

/// A lookup that knows nothing: used by fuzzers and pure-text analysis.
pub struct NoLookup;

impl Lookup for NoLookup {
    fn read_file(&self, _path: &str) -> Option<String> {
        None
    }
    fn file_head(&self, _path: &str) -> Option<Vec<u8>> {
        None
    }
    fn is_data_dir(&self, _path: &str) -> Option<bool> {
        None
    }
    fn package_script(&self, _name: &str) -> Option<String> {
        None
    }
}

/// An in-memory lookup for tests and the corpus.
#[derive(Debug, Default, Clone)]
pub struct MapLookup {
    pub files: BTreeMap<String, Vec<u8>>,
    pub data_dirs: Vec<String>,
    pub scripts: BTreeMap<String, String>,
    /// What `prisma_shadow_is_main` answers.
    pub prisma_shadow_is_main: Option<bool>,
}

impl Lookup for MapLookup {
    fn read_file(&self, path: &str) -> Option<String> {
        self.files.get(path).map(|b| String::from_utf8_lossy(b).into_owned())
    }
    fn file_head(&self, path: &str) -> Option<Vec<u8>> {
        self.files.get(path).map(|b| b.iter().take(100).copied().collect())
    }
    fn is_data_dir(&self, path: &str) -> Option<bool> {
        Some(
            self.data_dirs
                .iter()
                .any(|d| d.trim_end_matches('/') == path.trim_end_matches('/')),
        )
    }
    fn package_script(&self, name: &str) -> Option<String> {
        self.scripts.get(name).cloned()
    }
    fn prisma_shadow_is_main(&self, _env: &[(String, String)]) -> Option<bool> {
        self.prisma_shadow_is_main
    }
}
