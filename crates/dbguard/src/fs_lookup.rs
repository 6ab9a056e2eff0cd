//! The real-file-system implementation of the core's `Lookup`: what the pure
//! analyzers may ask about files and package.json, relative to the command's cwd, the
//! process environment, env files (read with dotenvy, as the tools read them) and the
//! workspace's packages (`fs_workspace`). Script summaries go through the on-disk cache
//! ([`crate::script_cache`]).

use std::io::Read;
use std::path::{Path, PathBuf};

use dbguard_core::lookup::{DirWalk, GitState, WalkEntry, WalkLimits, WorkspacePackage};
use dbguard_core::script::Summary;
use dbguard_core::Lookup;

use crate::script_cache::{Key, ScriptCache};

/// Files larger than this are not read for SQL (treated as unknown instead).
const MAX_SQL_FILE: u64 = 64 * 1024 * 1024;

/// Env files larger than this are not read (their variables count as unknown).
const MAX_ENV_FILE: u64 = 1024 * 1024;

pub struct FsLookup {
    cwd: PathBuf,
    package_json: std::cell::OnceCell<Option<serde_json::Value>>,
    cache: Option<ScriptCache>,
    workspace: std::cell::OnceCell<Option<Vec<WorkspacePackage>>>,
}

impl FsLookup {
    pub fn new(cwd: impl Into<PathBuf>) -> Self {
        FsLookup {
            cwd: cwd.into(),
            package_json: std::cell::OnceCell::new(),
            cache: ScriptCache::from_env(),
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

    fn dbguard_home(&self) -> Option<String> {
        let d = crate::config::data_dir();
        Some(std::path::absolute(&d).unwrap_or(d).to_string_lossy().into_owned())
    }

    fn resolve_path(&self, path: &str) -> Option<String> {
        Some(resolve_on_disk(&self.path(path)).to_string_lossy().into_owned())
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

    fn script_summary(&self, path: &str, kind: &str, summarize: &dyn Fn(&[u8]) -> Summary) -> Option<Summary> {
        let p = self.path(path);
        let meta = std::fs::metadata(&p).ok()?;
        if !meta.is_file() || meta.len() > MAX_SQL_FILE {
            return None;
        }
        let key = Key::new(&p, path, kind, &meta);
        if let Some(hit) = self.cache.as_ref().and_then(|c| c.get(&key)) {
            return Some(hit);
        }
        // A bundle without a strong marker is never parsed: scan it through a small buffer
        // instead of reading megabytes into memory (the hook's time on `node dist/server.js`).
        let (summary, read) = if meta.len() as usize > dbguard_core::script::prefilter::SMALL_FILE {
            match scan_for_strong(&p) {
                Some((false, n)) => (dbguard_core::script::unmarked_large_file(n), n),
                Some((true, _)) => {
                    let bytes = std::fs::read(&p).ok()?;
                    (summarize(&bytes), bytes.len() as u64)
                }
                None => return None,
            }
        } else {
            let bytes = std::fs::read(&p).ok()?;
            (summarize(&bytes), bytes.len() as u64)
        };
        // Cached only when the file did not change while it was read.
        if let (Some(cache), Ok(after)) = (&self.cache, std::fs::metadata(&p)) {
            if Key::new(&p, path, kind, &after) == key && read == key.size {
                cache.put(&key, &summary);
            }
        }
        Some(summary)
    }

    fn list_dir(&self, path: &str) -> Option<Vec<String>> {
        let mut names: Vec<String> = std::fs::read_dir(self.path(path))
            .ok()?
            .flatten()
            .take(10_000)
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        Some(names)
    }

    fn walk_dir(&self, path: &str, limits: &WalkLimits) -> Option<DirWalk> {
        let root = self.path(path);
        if !std::fs::symlink_metadata(&root).ok()?.is_dir() {
            return None;
        }
        Some(walk(&root, path, limits))
    }

    fn git_states(&self, paths: &[String]) -> Option<Vec<GitState>> {
        git_states(&self.cwd, paths)
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

/// The file through the prefilter's strong-marker scan, 256 KB at a time: (found, bytes read).
fn scan_for_strong(p: &Path) -> Option<(bool, u64)> {
    let mut f = std::fs::File::open(p).ok()?;
    let mut scan = dbguard_core::script::prefilter::StrongScan::default();
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = f.read(&mut buf).ok()?;
        if n == 0 {
            return Some((scan.finish(), total));
        }
        total += n as u64;
        if scan.feed(&buf[..n]) {
            return Some((true, total));
        }
    }
}

/// `p` with symlinks followed: the file itself when it exists, else its folder (a new file
/// in a linked folder), else `p` as it is.
pub fn resolve_on_disk(p: &Path) -> PathBuf {
    if let Ok(c) = std::fs::canonicalize(p) {
        return c;
    }
    match (p.parent().and_then(|d| std::fs::canonicalize(d).ok()), p.file_name()) {
        (Some(d), Some(n)) => d.join(n),
        _ => p.to_path_buf(),
    }
}

/// Breadth first, without following symbolic links; entries are named `shown` + the
/// relative path, as the command wrote the directory.
fn walk(root: &Path, shown: &str, limits: &WalkLimits) -> DirWalk {
    let mut out = DirWalk::default();
    let base = shown.trim_end_matches('/');
    let mut queue = std::collections::VecDeque::from([(root.to_path_buf(), base.to_string(), 1usize)]);
    while let Some((dir, name, depth)) = queue.pop_front() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            out.truncated = true;
            continue;
        };
        for e in rd {
            let Ok(e) = e else {
                out.truncated = true;
                continue;
            };
            if out.entries.len() >= limits.max_entries {
                out.truncated = true;
                return out;
            }
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_symlink() {
                continue;
            }
            let file_name = e.file_name().to_string_lossy().into_owned();
            let path = if name.is_empty() || name == "." {
                file_name.clone()
            } else {
                format!("{name}/{file_name}")
            };
            let size = if ft.is_file() {
                e.metadata().map(|m| m.len()).unwrap_or(0)
            } else {
                0
            };
            if ft.is_dir() && !limits.skip.contains(&file_name.as_str()) {
                if depth < limits.max_depth {
                    queue.push_back((e.path(), path.clone(), depth + 1));
                } else {
                    out.truncated = true;
                }
            }
            out.entries.push(WalkEntry {
                path,
                dir: ft.is_dir(),
                size,
            });
        }
    }
    out
}

/// `git ls-files -t --cached --others --exclude-standard` for the paths (relative to the
/// working directory, as the command names them): tagged `?` is untracked, any other
/// tag tracked, and an existing path git does not list is ignored. `None` when git
/// cannot answer (no repository, no git).
fn git_states(cwd: &Path, paths: &[String]) -> Option<Vec<GitState>> {
    if paths.is_empty() {
        return Some(Vec::new());
    }
    let out = std::process::Command::new("git")
        .current_dir(cwd)
        .args([
            "ls-files",
            "-z",
            "-t",
            "--cached",
            "--others",
            "--exclude-standard",
            "--",
        ])
        .args(paths)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let mut states = std::collections::HashMap::new();
    for rec in out.stdout.split(|b| *b == 0) {
        if rec.len() < 3 {
            continue;
        }
        let state = if rec[0] == b'?' {
            GitState::Untracked
        } else {
            GitState::Tracked
        };
        states.insert(String::from_utf8_lossy(&rec[2..]).into_owned(), state);
    }
    Some(
        paths
            .iter()
            .map(|p| {
                states
                    .get(p.trim_start_matches("./"))
                    .copied()
                    .unwrap_or(GitState::Ignored)
            })
            .collect(),
    )
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
