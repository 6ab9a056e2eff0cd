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

    /// dbguard's data directory (absolute), to recognize commands that write into it.
    fn dbguard_home(&self) -> Option<String> {
        None
    }

    /// `path` made absolute against the working directory, symlinks followed where it
    /// exists (a link named `notes.txt` that points at dbguard.toml is dbguard.toml).
    fn resolve_path(&self, _path: &str) -> Option<String> {
        None
    }

    /// What a script file holds for the analysis (`node scripts/cleanup.js`, an imported
    /// module, a seed file): `summarize` is the pure analysis of the file's bytes; `kind` is
    /// the language key, part of any cache key. The edge may answer from a cache keyed by the
    /// file's identity; the default reads the file every time. `None`: not readable.
    fn script_summary(
        &self,
        path: &str,
        kind: &str,
        summarize: &dyn Fn(&[u8]) -> crate::script::Summary,
    ) -> Option<crate::script::Summary> {
        let _ = kind;
        self.read_file(path).map(|t| summarize(t.as_bytes()))
    }

    /// The names of the entries of a directory (seed folders), sorted. `None`: not readable.
    fn list_dir(&self, path: &str) -> Option<Vec<String>> {
        let _ = path;
        None
    }
    /// The entries under a directory (`rm -r DIR`, `rsync --delete`, `git clean`,
    /// `terraform` configurations), breadth first, within `limits`; symbolic links are
    /// neither followed nor listed (deleting a tree removes the link, not its target).
    /// `None` when `path` is not a readable directory or nothing is known.
    fn walk_dir(&self, _path: &str, _limits: &WalkLimits) -> Option<DirWalk> {
        None
    }

    /// What git knows of these paths (relative to the working directory), for `git clean`:
    /// one state per path, in order. `None` when it cannot be known (no repository, no git).
    fn git_states(&self, _paths: &[String]) -> Option<Vec<GitState>> {
        None
    }

    /// A variable of the process environment the command will inherit (`$DATABASE_URL`
    /// on a command line that does not set it). `None`: not set, or not known.
    fn env_var(&self, _name: &str) -> Option<String> {
        None
    }

    /// The variables of an env file (`.env` syntax), in file order, as the tools that
    /// load it read them (`source .env`, `dotenv -e FILE`, `env-cmd -f FILE`). `None`:
    /// the file cannot be read (then nothing it sets can be known).
    fn env_file(&self, _path: &str) -> Option<Vec<(String, String)>> {
        None
    }

    /// The names of every script in the working directory's package.json (for patterns
    /// such as `npm-run-all db:*`). `None`: not known.
    fn package_script_names(&self) -> Option<Vec<String>> {
        None
    }

    /// The packages of the workspace the working directory belongs to (pnpm, npm, yarn,
    /// lerna and nx workspaces), for `pnpm --filter`, `turbo run`, `nx run`. `None`:
    /// not a workspace, or not known.
    fn workspace_packages(&self) -> Option<Vec<WorkspacePackage>> {
        None
    }

    /// Whether the Prisma project in the working directory configures a shadow database
    /// (`shadowDatabaseUrl`) that is its main database, with `env` (the command's inline
    /// assignments) in force. `None`: not configured, or not known.
    fn prisma_shadow_is_main(&self, env: &[(String, String)]) -> Option<bool> {
        let _ = env;
        None
    }
}

/// Bounds of a [`Lookup::walk_dir`]: the hook must stay fast on any tree.
#[derive(Debug, Clone, Copy)]
pub struct WalkLimits {
    /// Most entries listed; past it the walk stops and says so (`DirWalk::truncated`).
    pub max_entries: usize,
    /// Deepest level listed (1: the directory's own entries).
    pub max_depth: usize,
    /// Directory names not descended into (they are still listed): trees that never
    /// hold a database (`node_modules`, `.git`).
    pub skip: &'static [&'static str],
}

/// One entry of a [`DirWalk`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkEntry {
    /// The walked path joined with the entry's relative path (`data` + `app.db` -> `data/app.db`).
    pub path: String,
    pub dir: bool,
    /// Size in bytes (0 for directories).
    pub size: u64,
}

/// What a [`Lookup::walk_dir`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirWalk {
    pub entries: Vec<WalkEntry>,
    /// A limit was reached (entries or depth) or a subdirectory could not be read:
    /// the tree holds more than was listed.
    pub truncated: bool,
}

/// A path as git sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GitState {
    /// In the index: `git clean` never removes it.
    Tracked,
    /// Not in the index, not ignored: removed by `git clean -f`, kept by `-X`.
    Untracked,
    /// Not in the index, ignored: removed only by `git clean -x` / `-X`.
    Ignored,
}

/// One package of a workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkspacePackage {
    /// Its directory relative to the working directory (`packages/api`; `.` for the root).
    pub dir: String,
    /// Its name (package.json `name`, or nx project.json `name`).
    pub name: String,
}

/// The variables of env-file text for in-memory lookups: `KEY=value` lines, an optional
/// `export `, single or double quotes around the value, `#` comments. (The edge reads real
/// files with dotenvy, the parser the tools themselves use.)
pub fn parse_env_text(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        if line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else { continue };
        let k = k.trim();
        if k.is_empty() || !k.bytes().all(|c| c == b'_' || c.is_ascii_alphanumeric()) {
            continue;
        }
        let v = v.trim();
        let v = match v.as_bytes().first() {
            Some(q @ (b'"' | b'\'')) => v[1..].split(*q as char).next().unwrap_or(""),
            _ => v.split(" #").next().unwrap_or(v).trim_end(),
        };
        out.push((k.to_string(), v.to_string()));
    }
    out
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
    /// The process environment.
    pub env: BTreeMap<String, String>,
    /// Workspace packages: directory -> name (their package.json files are in `files`).
    pub workspace: BTreeMap<String, String>,
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
    fn list_dir(&self, path: &str) -> Option<Vec<String>> {
        let prefix = format!("{}/", path.trim_end_matches('/'));
        let mut names: Vec<String> = self
            .files
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix))
            .map(|rest| rest.split('/').next().unwrap_or(rest).to_string())
            .collect();
        names.dedup();
        (!names.is_empty()).then_some(names)
    }

    /// The files of the map under `path` (directories implied by their paths), in
    /// breadth-first order, within the limits.
    fn walk_dir(&self, path: &str, limits: &WalkLimits) -> Option<DirWalk> {
        let root = path.trim_end_matches('/');
        let root = if root.is_empty() && path.starts_with('/') {
            "/"
        } else {
            root
        };
        let prefix = match root {
            "" | "." => String::new(),
            "/" => "/".to_string(),
            r => format!("{r}/"),
        };
        let mut found: BTreeMap<String, (bool, u64)> = BTreeMap::new();
        for (k, v) in &self.files {
            let key = k.strip_prefix("./").unwrap_or(k);
            let Some(rel) = key.strip_prefix(prefix.as_str()) else {
                continue;
            };
            let parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
            let mut acc = String::new();
            for (i, part) in parts.iter().enumerate() {
                if !acc.is_empty() {
                    acc.push('/');
                }
                acc.push_str(part);
                let last = i + 1 == parts.len();
                found
                    .entry(acc.clone())
                    .or_insert((!last, if last { v.len() as u64 } else { 0 }));
                if !last && limits.skip.contains(part) {
                    break;
                }
            }
        }
        if found.is_empty() {
            return None;
        }
        let mut walk = DirWalk::default();
        let mut entries: Vec<(usize, String, bool, u64)> = found
            .into_iter()
            .map(|(rel, (dir, size))| (rel.matches('/').count() + 1, rel, dir, size))
            .collect();
        entries.sort();
        for (depth, rel, dir, size) in entries {
            if depth > limits.max_depth || walk.entries.len() >= limits.max_entries {
                walk.truncated = true;
                break;
            }
            walk.entries.push(WalkEntry {
                path: format!("{prefix}{rel}"),
                dir,
                size,
            });
        }
        Some(walk)
    }
    fn env_var(&self, name: &str) -> Option<String> {
        self.env.get(name).cloned()
    }
    fn env_file(&self, path: &str) -> Option<Vec<(String, String)>> {
        self.read_file(path).map(|t| parse_env_text(&t))
    }
    fn package_script_names(&self) -> Option<Vec<String>> {
        Some(self.scripts.keys().cloned().collect())
    }
    fn workspace_packages(&self) -> Option<Vec<WorkspacePackage>> {
        (!self.workspace.is_empty()).then(|| {
            self.workspace
                .iter()
                .map(|(dir, name)| WorkspacePackage {
                    dir: dir.clone(),
                    name: name.clone(),
                })
                .collect()
        })
    }
    fn prisma_shadow_is_main(&self, _env: &[(String, String)]) -> Option<bool> {
        self.prisma_shadow_is_main
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_text() {
        let v = parse_env_text("# c\nexport A=1\nB=\"x y\" \nC='p#q'\nD=v # note\nbad line\n E = e \n");
        let want: Vec<(String, String)> = [("A", "1"), ("B", "x y"), ("C", "p#q"), ("D", "v"), ("E", "e")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(v, want);
    }
}
