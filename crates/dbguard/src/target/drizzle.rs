//! drizzle-kit configuration: `drizzle.config.{ts,js,mjs,cjs,json}` in the working
//! directory; `dialect` (or the older `driver`) and `dbCredentials.url` (or the older
//! `connectionString`) when it is a literal or `process.env.X`.
//!
//! Env files: drizzle-kit loads none itself; config files load them through dotenv.
//! We read the files the config names (`import "dotenv/config"` -> `.env`,
//! `config({ path: ".env.local" })` -> `.env.local`); a config that loads no dotenv
//! gets `.env`, which is what almost every template does.

use std::path::{Path, PathBuf};

use super::jsscan::{self, ConfigValue};
use super::prisma::Setting;

#[derive(Debug, Clone, Default)]
pub struct DrizzleProject {
    /// `postgresql`, `mysql`, `sqlite`, `turso`, `singlestore`, `gel` (or old `pg`, `mysql2`, `better-sqlite`).
    pub dialect: Option<String>,
    pub url: Option<Setting>,
    pub env_files: Vec<PathBuf>,
    pub notes: Vec<String>,
}

pub const NAMES: &[&str] = &[
    "drizzle.config.ts",
    "drizzle.config.mts",
    "drizzle.config.js",
    "drizzle.config.mjs",
    "drizzle.config.cjs",
    "drizzle.config.json",
];

pub fn load(cwd: &Path) -> Option<DrizzleProject> {
    let file = NAMES.iter().map(|n| cwd.join(n)).find(|f| f.is_file())?;
    let mut p = DrizzleProject::default();
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) => {
            p.notes.push(format!("cannot read {}: {e}", file.display()));
            return Some(p);
        }
    };
    let origin = super::rel(cwd, &file);
    if file.extension().is_some_and(|x| x == "json") {
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(v) => {
                p.dialect = v
                    .get("dialect")
                    .or_else(|| v.get("driver"))
                    .and_then(|d| d.as_str())
                    .map(str::to_string);
                let creds = v.get("dbCredentials");
                let (key, url) = match creds.and_then(|c| c.get("url")) {
                    Some(u) => ("url", Some(u)),
                    None => ("connectionString", creds.and_then(|c| c.get("connectionString"))),
                };
                p.url = url.and_then(|u| u.as_str()).map(|u| Setting {
                    value: ConfigValue::Literal(u.to_string()),
                    origin: format!("{origin}: dbCredentials.{key}"),
                });
            }
            Err(e) => p.notes.push(format!("cannot parse {}: {e}", file.display())),
        }
        p.env_files.push(cwd.join(".env"));
        return Some(p);
    }
    let toks = jsscan::tokenize(&text);
    for key in ["dialect", "driver"] {
        if p.dialect.is_none() {
            if let Some(i) = jsscan::find_property(&toks, key, 0, toks.len()) {
                if let ConfigValue::Literal(d) = jsscan::value_at(&toks, i) {
                    p.dialect = Some(d);
                }
            }
        }
    }
    if let Some(c) = jsscan::find_property(&toks, "dbCredentials", 0, toks.len()) {
        let end = jsscan::object_end(&toks, c).unwrap_or(toks.len());
        for key in ["url", "connectionString"] {
            if let Some(i) = jsscan::find_property(&toks, key, c, end) {
                let value = jsscan::value_at(&toks, i);
                if value == ConfigValue::Other {
                    p.notes.push(format!(
                        "{origin}: dbCredentials.{key} is computed; dbguard cannot follow it"
                    ));
                } else {
                    p.url = Some(Setting {
                        value,
                        origin: format!("{origin}: dbCredentials.{key}"),
                    });
                }
                break;
            }
        }
    }
    p.env_files = jsscan::dotenv_paths(&toks)
        .unwrap_or_else(|| vec![".env".into()])
        .into_iter()
        .map(|f| cwd.join(f))
        .collect();
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(name: &str, text: &str) -> (tempfile::TempDir, DrizzleProject) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(name), text).unwrap();
        let p = load(dir.path()).unwrap();
        (dir, p)
    }

    #[test]
    fn ts_env_reference() {
        let (dir, p) = project(
            "drizzle.config.ts",
            r#"import 'dotenv/config';
import { defineConfig } from 'drizzle-kit';
export default defineConfig({
  out: './drizzle',
  schema: './src/db/schema.ts',
  dialect: 'postgresql',
  dbCredentials: {
    url: process.env.DATABASE_URL!,
  },
});"#,
        );
        assert_eq!(p.dialect.as_deref(), Some("postgresql"));
        let url = p.url.unwrap();
        assert_eq!(
            url.value,
            ConfigValue::Env {
                var: "DATABASE_URL".into(),
                fallback: None
            }
        );
        assert_eq!(url.origin, "drizzle.config.ts: dbCredentials.url");
        assert_eq!(p.env_files, vec![dir.path().join(".env")]);
    }

    #[test]
    fn literal_sqlite_and_dotenv_path() {
        let (dir, p) = project(
            "drizzle.config.mjs",
            "import { config } from 'dotenv'\nconfig({ path: '.env.local' })\nexport default { dialect: 'sqlite', dbCredentials: { url: 'file:local.db' } }",
        );
        assert_eq!(p.url.unwrap().value, ConfigValue::Literal("file:local.db".into()));
        assert_eq!(p.env_files, vec![dir.path().join(".env.local")]);
    }

    #[test]
    fn json_and_computed() {
        let (_d, p) = project(
            "drizzle.config.json",
            r#"{"dialect": "postgresql", "dbCredentials": {"url": "postgres://localhost/app"}}"#,
        );
        assert_eq!(
            p.url.unwrap().value,
            ConfigValue::Literal("postgres://localhost/app".into())
        );
        let (_d, p) = project(
            "drizzle.config.ts",
            "export default { dbCredentials: { url: build() } }",
        );
        assert!(p.url.is_none());
        assert_eq!(p.notes.len(), 1);
        let (_d, p) = project("drizzle.config.json", "{not json");
        assert!(p.url.is_none() && !p.notes.is_empty());
    }
}
