//! The real-file-system implementation of the core's `Lookup`: what the pure
//! analyzers may ask about files and package.json, relative to the command's cwd, the
//! process environment, env files (read with dotenvy, as the tools read them) and the
//! workspace's packages (`fs_workspace`).

use std::io::Read;
use std::path::{Path, PathBuf};

use dbguard_core::lookup::WorkspacePackage;
use dbguard_core::Lookup;

/// Files larger than this are not read for SQL (treated as unknown instead).
const MAX_SQL_FILE: u64 = 64 * 1024 * 1024;

/// Env files larger than this are not read (their variables count as unknown).
const MAX_ENV_FILE: u64 = 1024 * 1024;

pub struct FsLookup {
    cwd: PathBuf,
    package_json: std::cell::OnceCell<Option<serde_json::Value>>,
    workspace: std::cell::OnceCell<Option<Vec<WorkspacePackage>>>,
}

impl FsLookup {
    pub fn new(cwd: impl Into<PathBuf>) -> Self {
        FsLookup {
            cwd: cwd.into(),
            package_json: std::cell::OnceCell::new(),
            workspace: std::cell::OnceCell::new(),
        }
    }

    fn scripts(&self) -> Option<&serde_json::Map<String, serde_json::Value>> {
        let pkg = self.package_json.get_or_init(|| {
            let text = std::fs::read_to_string(self.cwd.join("package.json")).ok()?;
            serde_json::from_str(&text).ok()
        });
        pkg.as_ref()?.get("scripts")?.as_object()
    }

    fn path(&self, p: &str) -> PathBuf {
        let expanded = if let Some(rest) = p.strip_prefix("~/") {
            dirs::home_dir()
                .map(|h| h.join(rest))
                .unwrap_or_else(|| PathBuf::from(p))
        } else {
            PathBuf::from(p)
        };
        if expanded.is_absolute() {
            expanded
        } else {
            self.cwd.join(expanded)
        }
    }
}

impl Lookup for FsLookup {
    fn read_file(&self, path: &str) -> Option<String> {
        let p = self.path(path);
        let meta = std::fs::metadata(&p).ok()?;
        if !meta.is_file() || meta.len() > MAX_SQL_FILE {
            return None;
        }
        std::fs::read_to_string(p).ok()
    }

    fn file_head(&self, path: &str) -> Option<Vec<u8>> {
        let mut f = std::fs::File::open(self.path(path)).ok()?;
        let mut buf = vec![0u8; 100];
        let n = f.read(&mut buf).ok()?;
        buf.truncate(n);
        Some(buf)
    }

    fn is_data_dir(&self, path: &str) -> Option<bool> {
        let p = self.path(path);
        if !p.exists() {
            return None;
        }
        Some(is_db_data_dir(&p))
    }

    fn package_script(&self, name: &str) -> Option<String> {
        self.scripts()?.get(name)?.as_str().map(str::to_owned)
    }

    fn env_var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn env_file(&self, path: &str) -> Option<Vec<(String, String)>> {
        let p = self.path(path);
        let meta = std::fs::metadata(&p).ok()?;
        if !meta.is_file() || meta.len() > MAX_ENV_FILE {
            return None;
        }
        // A line dotenvy cannot parse stops the tools too: what came before it counts.
        Some(dotenvy::from_path_iter(&p).ok()?.map_while(Result::ok).collect())
    }

    fn package_script_names(&self) -> Option<Vec<String>> {
        Some(self.scripts()?.keys().cloned().collect())
    }

    fn workspace_packages(&self) -> Option<Vec<WorkspacePackage>> {
        self.workspace
            .get_or_init(|| {
                let cwd = std::fs::canonicalize(&self.cwd).unwrap_or_else(|_| self.cwd.clone());
                crate::fs_workspace::packages(&cwd)
            })
            .clone()
    }
}

/// A PostgreSQL cluster (PG_VERSION + base/), a MySQL datadir (ibdata1, mysql/),
/// or a directory that contains one of those one level down (a compose volume dir).
fn is_db_data_dir(p: &Path) -> bool {
    let marker = |d: &Path| {
        d.join("PG_VERSION").exists()
            || d.join("ibdata1").exists()
            || d.join("mysql").join("user.frm").exists()
            || d.join("mysql.ibd").exists()
    };
    if marker(p) {
        return true;
    }
    std::fs::read_dir(p)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .take(64)
                .any(|e| e.path().is_dir() && marker(&e.path()))
        })
        .unwrap_or(false)
}
