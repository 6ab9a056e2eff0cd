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
