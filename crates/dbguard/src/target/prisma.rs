//! Prisma project configuration: where the schema is, its `datasource` block
//! (`provider`, `url`, `directUrl`, `shadowDatabaseUrl`, each a literal or `env("X")`),
//! `prisma.config.ts` (`schema`, `datasource.url`...), and which `.env` files the
//! Prisma CLI loads.
//!
//! Env files, as the Prisma CLI does it:
//! - without `prisma.config.*`: the project root's `.env`, then the `.env` next to the
//!   schema (`prisma/.env`). `.env.local` and `.env.<NODE_ENV>` are never read by Prisma
//!   (a Next.js app reading `.env.local` and `prisma migrate` reading `.env` can
//!   disagree: the resolver warns).
//! - with `prisma.config.*`: Prisma loads no env file itself; only what the config loads
//!   through dotenv (`import "dotenv/config"` -> `.env`, `config({ path })` -> that path).

use std::path::{Path, PathBuf};

use super::jsscan::{self, ConfigValue, Tok};

/// A datasource value and where it was written ("prisma/schema.prisma: datasource url").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub value: ConfigValue,
    pub origin: String,
}

#[derive(Debug, Clone, Default)]
pub struct PrismaProject {
    pub schema_file: Option<PathBuf>,
    pub config_file: Option<PathBuf>,
    pub provider: Option<String>,
    pub url: Option<Setting>,
    pub direct_url: Option<Setting>,
    pub shadow_url: Option<Setting>,
    /// Env files the Prisma CLI loads, in precedence order (first wins).
    pub env_files: Vec<PathBuf>,
    /// Problems reading the project (unreadable schema...), shown as warnings.
    pub notes: Vec<String>,
}

impl PrismaProject {
    /// Directory relative SQLite `file:` URLs are resolved against (the schema's directory).
    pub fn base_dir(&self, cwd: &Path) -> PathBuf {
        self.schema_file
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_else(|| cwd.to_path_buf())
    }
}

const CONFIG_NAMES: &[&str] = &[
    "prisma.config.ts",
    "prisma.config.mts",
    "prisma.config.cts",
    "prisma.config.js",
    "prisma.config.mjs",
    ".config/prisma.ts",
];

/// The Prisma project in `cwd`, if there is one (a schema or a prisma.config file).
pub fn load(cwd: &Path) -> Option<PrismaProject> {
    let mut p = PrismaProject {
        config_file: CONFIG_NAMES.iter().map(|n| cwd.join(n)).find(|f| f.is_file()),
        ..Default::default()
    };
    let mut config_toks = None;
    let mut schema_hint: Option<PathBuf> = None;
    if let Some(cfg) = &p.config_file {
        match std::fs::read_to_string(cfg) {
            Ok(text) => {
                let toks = jsscan::tokenize(&text);
                if let Some(i) = jsscan::find_property(&toks, "schema", 0, toks.len()) {
                    if let Some(Tok::Str(s)) = toks.get(i) {
                        schema_hint = Some(cwd.join(s));
                    }
                }
                config_toks = Some(toks);
            }
            Err(e) => p.notes.push(format!("cannot read {}: {e}", cfg.display())),
        }
    }
    if schema_hint.is_none() {
        schema_hint = package_json_schema(cwd);
    }
    p.schema_file = find_schema(cwd, schema_hint.as_deref());
    if p.schema_file.is_none() && p.config_file.is_none() {
        return None;
    }
    if let Some(schema) = p.schema_file.clone() {
        match std::fs::read_to_string(&schema) {
            Ok(text) => {
                let origin = super::rel(cwd, &schema);
                let ds = parse_datasource(&text);
                p.provider = ds.provider;
                let mk = |v: Option<ConfigValue>, key: &str| {
                    v.map(|value| Setting {
                        value,
                        origin: format!("{origin}: datasource {key}"),
                    })
                };
                p.url = mk(ds.url, "url");
                p.direct_url = mk(ds.direct_url, "directUrl");
                p.shadow_url = mk(ds.shadow_url, "shadowDatabaseUrl");
            }
            Err(e) => p.notes.push(format!("cannot read {}: {e}", schema.display())),
        }
    }
    if let (Some(toks), Some(cfg)) = (&config_toks, &p.config_file) {
        let origin = super::rel(cwd, cfg);
        if let Some(ds) = jsscan::find_property(toks, "datasource", 0, toks.len()) {
            let end = jsscan::object_end(toks, ds).unwrap_or(toks.len());
            let get = |key: &str| {
                jsscan::find_property(toks, key, ds, end)
                    .map(|i| jsscan::value_at(toks, i))
                    .filter(|v| *v != ConfigValue::Other)
                    .map(|value| Setting {
                        value,
                        origin: format!("{origin}: datasource.{key}"),
                    })
            };
            // The schema's datasource wins when both name a URL (Prisma 6); Prisma 7 has it only here.
            p.url = p.url.take().or_else(|| get("url"));
            p.direct_url = p.direct_url.take().or_else(|| get("directUrl"));
            p.shadow_url = p.shadow_url.take().or_else(|| get("shadowDatabaseUrl"));
        }
        p.env_files = jsscan::dotenv_paths(toks)
            .unwrap_or_default()
            .into_iter()
            .map(|f| cwd.join(f))
            .collect();
    } else {
        p.env_files.push(cwd.join(".env"));
        if let Some(dir) = p.schema_file.as_deref().and_then(Path::parent) {
            let f = dir.join(".env");
            if !p.env_files.contains(&f) {
                p.env_files.push(f);
            }
        }
    }
    Some(p)
}

/// `"prisma": { "schema": "db/schema.prisma" }` in package.json.
fn package_json_schema(cwd: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(cwd.join("package.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v.get("prisma")?.get("schema")?.as_str().map(|s| cwd.join(s))
}

fn find_schema(cwd: &Path, hint: Option<&Path>) -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = match hint {
        Some(h) => vec![h.to_path_buf()],
        None => vec![
            cwd.join("prisma/schema.prisma"),
            cwd.join("schema.prisma"),
            cwd.join("prisma/schema"),
        ],
    };
    for c in candidates {
        if c.is_file() {
            return Some(c);
        }
        if c.is_dir() {
            // Multi-file schema: the file holding the datasource block.
            let mut files: Vec<PathBuf> = std::fs::read_dir(&c)
                .ok()?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "prisma"))
                .collect();
            files.sort();
            let with_ds = files
                .iter()
                .find(|f| {
                    std::fs::read_to_string(f)
                        .map(|t| t.contains("datasource"))
                        .unwrap_or(false)
                })
                .cloned();
            if let Some(f) = with_ds.or_else(|| files.into_iter().next()) {
                return Some(f);
            }
        }
    }
    None
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Datasource {
    pub provider: Option<String>,
    pub url: Option<ConfigValue>,
    pub direct_url: Option<ConfigValue>,
    pub shadow_url: Option<ConfigValue>,
}

/// Parse the first `datasource NAME { ... }` block of a Prisma schema.
pub fn parse_datasource(text: &str) -> Datasource {
    let toks = jsscan::tokenize(text);
    let mut ds = Datasource::default();
    let Some(start) = (0..toks.len()).find(|&i| {
        matches!(&toks[i], Tok::Ident(k) if k == "datasource")
            && matches!(toks.get(i + 1), Some(Tok::Ident(_)))
            && toks.get(i + 2) == Some(&Tok::Punct('{'))
    }) else {
        return ds;
    };
    let open = start + 2;
    let end = jsscan::object_end(&toks, open).unwrap_or(toks.len());
    let mut i = open + 1;
    while i + 2 < end.min(toks.len()) {
        if let (Tok::Ident(key), Tok::Punct('=')) = (&toks[i], &toks[i + 1]) {
            let value = match (&toks[i + 2], toks.get(i + 3), toks.get(i + 4), toks.get(i + 5)) {
                (Tok::Str(s), ..) => ConfigValue::Literal(s.clone()),
                (Tok::Ident(f), Some(Tok::Punct('(')), Some(Tok::Str(v)), Some(Tok::Punct(')'))) if f == "env" => {
                    ConfigValue::Env {
                        var: v.clone(),
                        fallback: None,
                    }
                }
                _ => ConfigValue::Other,
            };
            match key.as_str() {
                "provider" => {
                    if let ConfigValue::Literal(s) = &value {
                        ds.provider = Some(s.clone());
                    }
                }
                "url" => ds.url = Some(value),
                "directUrl" => ds.direct_url = Some(value),
                "shadowDatabaseUrl" => ds.shadow_url = Some(value),
                _ => {}
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    ds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datasource_block() {
        let ds = parse_datasource(
            r#"
// url = "postgres://commented-out"
generator client { provider = "prisma-client-js" }
datasource db {
  provider          = "postgresql" // trailing comment
  url               = env("DATABASE_URL")
  directUrl         = env("DIRECT_URL")
  shadowDatabaseUrl = "postgres://u:p@localhost/shadow"
}
model User { id Int @id @default(autoincrement()) url String }
"#,
        );
        assert_eq!(ds.provider.as_deref(), Some("postgresql"));
        assert_eq!(
            ds.url,
            Some(ConfigValue::Env {
                var: "DATABASE_URL".into(),
                fallback: None
            })
        );
        assert_eq!(
            ds.direct_url,
            Some(ConfigValue::Env {
                var: "DIRECT_URL".into(),
                fallback: None
            })
        );
        assert_eq!(
            ds.shadow_url,
            Some(ConfigValue::Literal("postgres://u:p@localhost/shadow".into()))
        );
    }

    #[test]
    fn sqlite_literal_and_garbage() {
        let ds = parse_datasource("datasource db {\n provider = \"sqlite\"\n url = \"file:./dev.db\"\n}");
        assert_eq!(ds.url, Some(ConfigValue::Literal("file:./dev.db".into())));
        assert_eq!(parse_datasource(""), Datasource::default());
        assert_eq!(parse_datasource("datasource db {"), Datasource::default());
        let ds = parse_datasource("datasource db { url = env(\"X\" }");
        assert_eq!(ds.url, Some(ConfigValue::Other));
    }

    #[test]
    fn project_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("prisma")).unwrap();
        std::fs::write(
            dir.path().join("prisma/schema.prisma"),
            "datasource db { provider = \"postgresql\" url = env(\"PG\") }",
        )
        .unwrap();
        let p = load(dir.path()).unwrap();
        assert_eq!(p.url.as_ref().unwrap().origin, "prisma/schema.prisma: datasource url");
        assert_eq!(
            p.env_files,
            vec![dir.path().join(".env"), dir.path().join("prisma/.env")]
        );

        std::fs::write(
            dir.path().join("prisma.config.ts"),
            "import 'dotenv/config'\nimport { defineConfig, env } from 'prisma/config'\nexport default defineConfig({ schema: 'prisma/schema.prisma', datasource: { url: env('OTHER'), shadowDatabaseUrl: env('SHADOW') } })",
        )
        .unwrap();
        let p = load(dir.path()).unwrap();
        // The schema's url wins; the config fills what the schema lacks.
        assert_eq!(
            p.url.as_ref().unwrap().value,
            ConfigValue::Env {
                var: "PG".into(),
                fallback: None
            }
        );
        assert_eq!(
            p.shadow_url.as_ref().unwrap().value,
            ConfigValue::Env {
                var: "SHADOW".into(),
                fallback: None
            }
        );
        assert_eq!(p.env_files, vec![dir.path().join(".env")]);

        let empty = tempfile::tempdir().unwrap();
        assert!(load(empty.path()).is_none());
    }

    #[test]
    fn package_json_schema_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("db")).unwrap();
        std::fs::write(
            dir.path().join("package.json"),
            r#"{"prisma": {"schema": "db/app.prisma"}}"#,
        )
        .unwrap();
        std::fs::write(
            dir.path().join("db/app.prisma"),
            "datasource db { provider = \"sqlite\" url = \"file:x.db\" }",
        )
        .unwrap();
        let p = load(dir.path()).unwrap();
        assert_eq!(p.base_dir(dir.path()), dir.path().join("db"));
    }
}
