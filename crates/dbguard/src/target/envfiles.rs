//! `.env` files, read with dotenvy (the same syntax the tools use) and kept per file so
//! the resolver can say which file a value came from and where files disagree.
//!
//! Which files a tool reads, in precedence order (first file defining a variable wins;
//! a variable already set in the process environment always wins over every file,
//! because dotenv never overrides):
//! - generic / Node apps (Next.js, Vite, dotenv-flow), and `dbguard status` without an ORM:
//!   `.env.<NODE_ENV>.local`, `.env.local` (skipped when NODE_ENV=test), `.env.<NODE_ENV>`,
//!   `.env`. The `<NODE_ENV>` files only when NODE_ENV is set.
//! - Rails (dotenv-rails): `.env.<RAILS_ENV>.local`, `.env.local` (not in test),
//!   `.env.<RAILS_ENV>`, `.env`, with RAILS_ENV defaulting to `development`.
//! - Rails: `RAILS_ENV`, else `RACK_ENV`, names the environment (see `rails.rs`).
//! - Laravel (artisan: phpdotenv): `.env.<APP_ENV>` instead of `.env` when `APP_ENV` is
//!   set in the environment and that file exists, else `.env` (one file, never both).
//! - Python tools (Django, Flask, Alembic: python-dotenv / django-environ), sqlx and
//!   diesel (dotenvy): `.env`.
//! - Prisma and drizzle-kit: see `prisma.rs` and `drizzle.rs`.
//! - psql, pg_dump and other libpq tools: none (libpq reads only `PG*` variables).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One parsed env file.
#[derive(Debug, Clone)]
pub struct EnvFile {
    /// Path as shown to the user (relative to the working directory when inside it).
    pub label: String,
    pub vars: Vec<(String, String)>,
}

impl EnvFile {
    pub fn get(&self, name: &str) -> Option<&str> {
        // dotenv keeps the first definition in a file; so do we.
        self.vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Reads each file once; missing files are simply absent.
#[derive(Debug, Default)]
pub struct EnvFileCache {
    cwd: PathBuf,
    files: HashMap<PathBuf, Option<EnvFile>>,
    /// Parse problems ("cannot parse .env line 3"), redacted later with everything else.
    pub notes: Vec<String>,
}

impl EnvFileCache {
    pub fn new(cwd: &Path) -> Self {
        EnvFileCache {
            cwd: cwd.to_path_buf(),
            ..Default::default()
        }
    }

    pub fn file(&mut self, path: &Path) -> Option<&EnvFile> {
        if !self.files.contains_key(path) {
            let parsed = self.read(path);
            self.files.insert(path.to_path_buf(), parsed);
        }
        self.files.get(path).and_then(Option::as_ref)
    }

    fn read(&mut self, path: &Path) -> Option<EnvFile> {
        if !path.is_file() {
            return None;
        }
        let label = super::rel(&self.cwd, path);
        let iter = match dotenvy::from_path_iter(path) {
            Ok(it) => it,
            Err(e) => {
                self.notes.push(format!("cannot read {label}: {e}"));
                return None;
            }
        };
        let mut vars = Vec::new();
        let mut errors = 0;
        for item in iter {
            match item {
                Ok(kv) => vars.push(kv),
                Err(e) => {
                    errors += 1;
                    if errors == 1 {
                        self.notes.push(format!(
                            "{label}: {e}; the rest of the file may be ignored by the tools"
                        ));
                    }
                    // A broken reader can keep failing: stop rather than loop.
                    if errors > 20 {
                        break;
                    }
                }
            }
        }
        Some(EnvFile { label, vars })
    }

    /// The first of `paths` (in precedence order) defining `name`.
    pub fn lookup(&mut self, paths: &[PathBuf], name: &str) -> Option<(String, String)> {
        for p in paths {
            if let Some(v) = self
                .file(p)
                .and_then(|f| f.get(name).map(|v| (v.to_string(), f.label.clone())))
            {
                return Some(v);
            }
        }
        None
    }
}

/// dotenv-flow / Next.js order for a NODE_ENV (None: only `.env.local` and `.env`).
pub fn node_order(dir: &Path, node_env: Option<&str>) -> Vec<PathBuf> {
    let mode = node_env.map(str::trim).filter(|m| !m.is_empty() && is_safe_mode(m));
    let mut names = Vec::new();
    if let Some(m) = mode {
        names.push(format!(".env.{m}.local"));
    }
    if mode != Some("test") {
        names.push(".env.local".to_string());
    }
    if let Some(m) = mode {
        names.push(format!(".env.{m}"));
    }
    names.push(".env".to_string());
    names.into_iter().map(|n| dir.join(n)).collect()
}

/// dotenv-rails order; RAILS_ENV defaults to development.
pub fn rails_order(dir: &Path, rails_env: Option<&str>) -> Vec<PathBuf> {
    let env = rails_env
        .map(str::trim)
        .filter(|m| !m.is_empty() && is_safe_mode(m))
        .unwrap_or("development");
    node_order(dir, Some(env))
}

/// Laravel's `LoadEnvironmentVariables`: `.env.<APP_ENV>` replaces `.env` when it exists.
pub fn laravel_order(dir: &Path, app_env: Option<&str>) -> Vec<PathBuf> {
    if let Some(m) = app_env.map(str::trim).filter(|m| !m.is_empty() && is_safe_mode(m)) {
        let specific = dir.join(format!(".env.{m}"));
        if specific.is_file() {
            return vec![specific];
        }
    }
    vec![dir.join(".env")]
}

/// A mode is used in a file name: refuse path separators and dots.
fn is_safe_mode(m: &str) -> bool {
    m.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: Vec<PathBuf>) -> Vec<String> {
        v.iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn orders() {
        let d = Path::new("/p");
        assert_eq!(names(node_order(d, None)), [".env.local", ".env"]);
        assert_eq!(
            names(node_order(d, Some("production"))),
            [".env.production.local", ".env.local", ".env.production", ".env"]
        );
        assert_eq!(
            names(node_order(d, Some("test"))),
            [".env.test.local", ".env.test", ".env"]
        );
        assert_eq!(names(node_order(d, Some("../x"))), [".env.local", ".env"]);
        assert_eq!(
            names(rails_order(d, None)),
            [".env.development.local", ".env.local", ".env.development", ".env"]
        );
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(names(laravel_order(dir.path(), Some("staging"))), [".env"]);
        std::fs::write(dir.path().join(".env.staging"), "").unwrap();
        assert_eq!(names(laravel_order(dir.path(), Some("staging"))), [".env.staging"]);
        assert_eq!(names(laravel_order(dir.path(), None)), [".env"]);
    }

    #[test]
    fn precedence_and_parsing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(".env"),
            "# c\nDATABASE_URL=\"postgres://a@h/env\"\nX=1\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join(".env.local"),
            "export DATABASE_URL='postgres://a@h/local'\n",
        )
        .unwrap();
        std::fs::write(dir.path().join(".env.production"), "DATABASE_URL=postgres://a@h/prod\n").unwrap();
        let mut c = EnvFileCache::new(dir.path());
        let order = node_order(dir.path(), Some("production"));
        assert_eq!(
            c.lookup(&order, "DATABASE_URL"),
            Some(("postgres://a@h/local".into(), ".env.local".into()))
        );
        assert_eq!(c.lookup(&order, "X"), Some(("1".into(), ".env".into())));
        assert_eq!(c.lookup(&order, "Y"), None);
        let test_order = node_order(dir.path(), Some("test"));
        assert_eq!(c.lookup(&test_order, "DATABASE_URL").unwrap().1, ".env");
    }

    #[test]
    fn broken_file_is_a_note_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".env"), "GOOD=1\nthis is not valid\nAFTER=2\n").unwrap();
        let mut c = EnvFileCache::new(dir.path());
        let order = vec![dir.path().join(".env")];
        assert_eq!(c.lookup(&order, "GOOD").map(|v| v.0), Some("1".into()));
        assert!(!c.notes.is_empty());
    }
}
