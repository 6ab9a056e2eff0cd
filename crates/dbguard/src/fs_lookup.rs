//! The real-file-system implementation of the core's `Lookup`: what the pure
//! analyzers may ask about files and package.json, relative to the command's cwd.

use std::io::Read;
use std::path::{Path, PathBuf};

use dbguard_core::Lookup;

/// Files larger than this are not read for SQL (treated as unknown instead).
const MAX_SQL_FILE: u64 = 64 * 1024 * 1024;

pub struct FsLookup {
    cwd: PathBuf,
    package_json: std::cell::OnceCell<Option<serde_json::Value>>,
}

impl FsLookup {
    pub fn new(cwd: impl Into<PathBuf>) -> Self {
        FsLookup {
            cwd: cwd.into(),
            package_json: std::cell::OnceCell::new(),
        }
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
        let pkg = self.package_json.get_or_init(|| {
            let text = std::fs::read_to_string(self.cwd.join("package.json")).ok()?;
            serde_json::from_str(&text).ok()
        });
        pkg.as_ref()?.get("scripts")?.get(name)?.as_str().map(str::to_owned)
    }

    /// Resolved without connecting (this runs in the hook): the URLs are compared by their
    /// parts, with `localhost`, `127.0.0.1` and `::1` counting as one host. `dbguard migrate`
    /// compares the servers' identities instead.
    fn prisma_shadow_is_main(&self, env: &[(String, String)]) -> Option<bool> {
        crate::target::prisma::load(&self.cwd)?.shadow_url?;
        let hint = dbguard_core::TargetHint {
            tool: Some("prisma".into()),
            env: env.to_vec(),
            ..Default::default()
        };
        let req = crate::target::ResolveRequest::from_process(None, self.cwd.clone(), Some(hint));
        let t = crate::target::resolve(&req).ok()?;
        let shadow = t.related.iter().find(|r| r.role == "shadowDatabaseUrl")?;
        Some(shadow.same_as_target)
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
